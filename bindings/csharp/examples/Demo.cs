// The demo of the C# binding: search "cholera", show the first result's code information, and
// its title in English and French.
//
// Credentials and URLs come from the environment: ICD_CLIENT_ID and ICD_CLIENT_SECRET (both
// required), and ICD_API_BASE / ICD_TOKEN_ENDPOINT when not talking to the WHO cloud itself.

using System;
using System.Text;
using IcdApi;
using IcdApi.Samples;

internal static class Demo
{
    private static int Main()
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        try
        {
            Run();
            return 0;
        }
        catch (IcdException e)
        {
            Console.Error.WriteLine("C#: error {0} (HTTP {1}): {2}", e.Status, e.HttpStatus, e.Message);
            return 1;
        }
        catch (Exception e) when (e is FormatException || e is InvalidOperationException)
        {
            Console.Error.WriteLine("C#: unexpected answer: {0}", e.Message);
            return 1;
        }
    }

    private static void Run()
    {
        // null, null: ICD_CLIENT_ID and ICD_CLIENT_SECRET (and ICD_API_BASE, ICD_TOKEN_ENDPOINT).
        using (IcdClient client = IcdClient.Cloud(null, null))
        {
            object search = MiniJson.Parse(client.Search("cholera"));
            string code = MiniJson.PathString(search, "destinationEntities", 0, "theCode")
                ?? throw new InvalidOperationException("the search found no code");
            Console.WriteLine("C#: search \"cholera\" -> {0}", code);

            string codeInfoJson = client.CodeInfo(code);
            Console.WriteLine("C#: codeinfo {0} -> {1}", code, codeInfoJson);

            // stemId is an http://id.who.int/... URI; Get rewrites it to the configured API.
            string stemId = MiniJson.PathString(MiniJson.Parse(codeInfoJson), "stemId")
                ?? throw new InvalidOperationException("the code information has no stemId");
            foreach (string language in new[] { "en", "fr" })
            {
                client.SetLanguage(language);
                object entity = MiniJson.Parse(client.Get(stemId));
                string title = MiniJson.PathString(entity, "title", "@value")
                    ?? throw new InvalidOperationException("the entity has no title");
                Console.WriteLine("C#: title {0}: {1}", language, title);
            }
        }
    }
}
