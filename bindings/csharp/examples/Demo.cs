// The demo of the C# binding: search "cholera", show the first result's code information, and
// its title in English and French. Answers are read with IcdJson (the native library's JSON
// documents): no JSON library of our own, no string scraping.
//
// Credentials and URLs come from the environment: ICD_CLIENT_ID and ICD_CLIENT_SECRET (both
// required), and ICD_API_BASE / ICD_TOKEN_ENDPOINT when not talking to the WHO cloud itself.

using System;
using System.Collections.Generic;
using System.Text;
using IcdApi;

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
        catch (InvalidOperationException e)
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
            // Plain titles, without the <em class='found'> marks the API adds by default.
            var plain = new Dictionary<string, string> { ["highlightingEnabled"] = "false" };
            string code;
            using (IcdJson found = IcdJson.Parse(client.Search("cholera", plain)))
            {
                code = found.String("/destinationEntities/0/theCode")
                    ?? throw new InvalidOperationException("the search found no code");
                Console.WriteLine("C#: search \"cholera\" -> {0} ({1})", code,
                    found.String("/destinationEntities/0/title") ?? "no title");
            }

            Console.WriteLine("C#: codeinfo {0} -> {1}", code, client.CodeInfo(code));

            foreach (string language in new[] { "en", "fr" })
            {
                client.SetLanguage(language);
                // The code information, then its stemId: the entity in one call.
                using (IcdJson entity = IcdJson.Parse(client.EntityByCode(code)))
                {
                    // {"@language": "fr", "@value": "Choléra"} reads as its text.
                    string title = entity.String("/title")
                        ?? throw new InvalidOperationException("the entity has no title");
                    Console.WriteLine("C#: title {0}: {1}", language, title);
                }
            }
        }
    }
}
