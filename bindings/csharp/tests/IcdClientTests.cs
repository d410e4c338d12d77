// Tests of the C# binding against the local stand-in of the ICD API. A self-contained program:
//   mono IcdClientTests.exe [name-filter]
// with ICDAPI_STANDIN=path/to/tools/standin/icd_standin.py (run-tests.sh sets it). The last line
// of output is "N passed, M failed"; the exit code is 1 on any failure.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace IcdApi.Tests
{
    internal static class Program
    {
        private static int Main(string[] args)
        {
            Console.OutputEncoding = new UTF8Encoding(false);
            if (args.Length == 2 && args[0] == "--env-child")
            {
                return IcdClientTests.EnvChild(args[1]);
            }
            // run-tests.sh says which runtime it meant (mono or coreclr): prove it is that one.
            string runtime = Type.GetType("Mono.Runtime") != null ? "mono" : "coreclr";
            Console.WriteLine("runtime: {0} (CLR {1}), native library {2}", runtime, Environment.Version, IcdClient.Version);
            string expected = Environment.GetEnvironmentVariable("ICDAPI_TEST_RUNTIME");
            if (expected != null && expected != runtime)
            {
                Console.WriteLine("meant to run on {0}, but this is {1}", expected, runtime);
                Console.WriteLine("0 passed, 1 failed");
                return 1;
            }
            StandIn standIn;
            try
            {
                standIn = StandIn.Start(Environment.GetEnvironmentVariable("ICDAPI_STANDIN"));
            }
            catch (Exception e)
            {
                Console.WriteLine("cannot start the stand-in: " + e.Message);
                Console.WriteLine("0 passed, 1 failed");
                return 1;
            }
            using (standIn)
            {
                return Runner.Run(() => new IcdClientTests(standIn), standIn.NewTest, args.Length > 0 ? args[0] : null);
            }
        }
    }

    public sealed partial class IcdClientTests
    {
        private const string ClientSecret = "standin-secret";
        private const string CholeraId = "257068234";
        private const string CholeraPath = "/icd/release/11/2026-01/mms/" + CholeraId;
        private const string CholeraUri = "http://id.who.int" + CholeraPath;
        private const string SearchPath = "/icd/release/11/2026-01/mms/search";

        private readonly StandIn standIn;

        internal IcdClientTests(StandIn standIn)
        {
            this.standIn = standIn;
        }

        /// <summary>This test's client id (see <see cref="StandIn.ClientId"/>).</summary>
        private string ClientId => standIn.ClientId;

        /// <summary>A cloud client pointed at the stand-in.</summary>
        private IcdClient NewClient(string secret = ClientSecret)
        {
            IcdClient client = IcdClient.Cloud(ClientId, secret);
            client.SetApiBase(standIn.Url);
            client.SetTokenEndpoint(standIn.Url + "/connect/token");
            return client;
        }

        /// <summary>The string a JSON Pointer names in a JSON text, or null.</summary>
        private static string At(string json, string pointer)
        {
            using (IcdJson doc = IcdJson.Parse(json))
            {
                return doc.String(pointer);
            }
        }

        private static string FirstCode(string searchJson)
        {
            return At(searchJson, "/destinationEntities/0/theCode");
        }

        private static string Title(string entityJson)
        {
            return At(entityJson, "/title");
        }

        // ---- Version ----------------------------------------------------------------------------

        [Test]
        public void VersionIsTheLibraryVersion()
        {
            string version = IcdClient.Version;
            Assert.True(Regex.IsMatch(version, @"^\d+\.\d+\.\d+"), "version <" + version + "> is not x.y.z");
            string header = Environment.GetEnvironmentVariable("ICDAPI_HEADER");
            if (header != null)
            {
                Match m = Regex.Match(File.ReadAllText(header), "#define ICDAPI_VERSION \"([^\"]+)\"");
                Assert.True(m.Success, "no ICDAPI_VERSION in " + header);
                Assert.Equal(m.Groups[1].Value, version, "icd_version() against the header");
            }
        }

        // ---- Options of the library -----------------------------------------------------------

        /// Every option of the native library has a typed setter (Set + its name in PascalCase;
        /// timeout_ms takes a TimeSpan): a new option in the library fails this test until the
        /// binding has one.
        [Test]
        public void EveryOptionOfTheLibraryHasATypedSetter()
        {
            IReadOnlyList<string> names = IcdClient.OptionNames;
            Assert.True(names.Count >= 19 && names[0] == "language", "option names: " + string.Join(",", names));
            var renamed = new Dictionary<string, string> { { "timeout_ms", "SetTimeout" } };
            var missing = new List<string>();
            foreach (string name in names)
            {
                string setter;
                if (!renamed.TryGetValue(name, out setter))
                {
                    setter = "Set" + string.Concat(name.Split('_').Select(w => char.ToUpperInvariant(w[0]) + w.Substring(1)));
                }
                MethodInfo method = typeof(IcdClient).GetMethod(setter, BindingFlags.Public | BindingFlags.Instance);
                if (method == null || method.GetParameters().Length != 1)
                {
                    missing.Add(name + " (" + setter + ")");
                }
            }
            Assert.Equal("", string.Join(", ", missing), "options without a typed setter in IcdClient");
        }

        // ---- Requests ---------------------------------------------------------------------------

        [Test]
        public void SearchFindsCholeraWithTheRequiredHeaders()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "first search result");
            }
            LoggedRequest request = standIn.LastApiRequest();
            Assert.Equal("GET", (string)request["method"], "method");
            Assert.Equal(SearchPath, (string)request["path"], "path");
            Assert.Equal("cholera", StandIn.Query(request, "q"), "q");
            Assert.True(StandIn.Header(request, "authorization").StartsWith("Bearer ", StringComparison.Ordinal), "a bearer token");
            Assert.Contains("application/json", StandIn.Header(request, "accept"), "Accept");
            Assert.Equal("en", StandIn.Header(request, "accept-language"), "Accept-Language");
            Assert.Equal("v2", StandIn.Header(request, "api-version"), "API-Version");
            Assert.Contains("icdapi/", StandIn.Header(request, "user-agent"), "User-Agent");
        }

        [Test]
        public void SearchEncodesNonAsciiAndSpaces()
        {
            using (IcdClient client = NewClient())
            {
                client.SetLanguage("fr");
                Assert.Equal("1A00", FirstCode(client.Search("choléra")), "first result of choléra");
                client.Search("cholera intestinal & more");
            }
            List<LoggedRequest> log = standIn.ApiLog();
            Assert.Contains("q=chol%C3%A9ra", (string)log[0]["target"], "UTF-8 percent-encoded");
            Assert.Equal("cholera intestinal & more", StandIn.Query(log[1], "q"), "q with spaces and &");
        }

        [Test]
        public void GetByPath()
        {
            using (IcdClient client = NewClient())
            {
                string json = client.Get(CholeraPath);
                Assert.Equal("Cholera", Title(json), "title");
                Assert.Equal(CholeraUri, At(json, "/@id"), "@id");
            }
            Assert.Equal(CholeraPath, (string)standIn.LastApiRequest()["path"], "path");
        }

        [Test]
        public void GetByWhoUriIsRewrittenToTheApiBase()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Equal("1A00", At(client.Get(CholeraUri), "/code"), "code");
            }
            Assert.Equal(CholeraPath, (string)standIn.LastApiRequest()["path"], "path");
        }

        [Test]
        public void GetByUriUnderTheApiBaseAndWithAQuery()
        {
            using (IcdClient client = NewClient())
            {
                string json = client.Get(standIn.Url + CholeraPath + "?include=ancestor");
                using (IcdJson doc = IcdJson.Parse(json))
                {
                    Assert.Equal(IcdJsonType.Array, doc.Type("/ancestor"), "ancestors included");
                    Assert.True(doc.Count("/ancestor") > 0, "ancestors: " + doc.Count("/ancestor"));
                }
            }
            Assert.Equal("ancestor", StandIn.Query(standIn.LastApiRequest(), "include"), "include");
        }

        [Test]
        public void PostSendsTheJsonBody()
        {
            // A death certificate to the coding-edit check: an endpoint that reads a JSON body.
            const string certificate = "{\"causes\":[{\"code\":\"1A00\"}]}";
            using (IcdClient client = NewClient())
            {
                string answer = client.Post("/icd/release/11/2026-01/codedit", certificate);
                Assert.Equal("Codes found: 1A00", At(answer, "/report"), "report");
            }
            LoggedRequest request = standIn.LastApiRequest();
            Assert.Equal("POST", (string)request["method"], "method");
            Assert.Equal(certificate, (string)request["body"], "body");
            Assert.Contains("application/json", StandIn.Header(request, "content-type"), "Content-Type");
        }

        [Test]
        public void PostRefusesABodyThatIsNotJson()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Post(SearchPath, "{q: cholera"), "invalid JSON body");
            }
            Assert.Equal(0, standIn.ApiLog().Count, "requests sent");
        }

        [Test]
        public void CodeInfo()
        {
            using (IcdClient client = NewClient())
            using (IcdJson info = IcdJson.Parse(client.CodeInfo("1A00")))
            {
                Assert.Equal("1A00", info.String("/code"), "code");
                Assert.Equal(CholeraUri, info.String("/stemId"), "stemId");
                Assert.Equal("FB32.5", At(client.CodeInfo("FB32.5"), "/code"), "code with a dot");
            }
        }

        [Test]
        public void CodeInfoKeepsAmpersandAndSlashInsideTheCode()
        {
            const string code = "1A00&XS25/XT5R";
            using (IcdClient client = NewClient())
            using (IcdJson info = IcdJson.Parse(client.CodeInfo(code)))
            {
                Assert.Equal(code, info.String("/code"), "code as the API got it");
                Assert.Equal("1A00", info.String("/stemCode"), "stem code");
            }
            Assert.Contains("/codeinfo/1A00%26XS25%2FXT5R", (string)standIn.LastApiRequest()["target"], "target");
        }

        [Test]
        public void CodeInfoOfAnUnknownCodeIsHttp404()
        {
            using (IcdClient client = NewClient())
            {
                IcdException e = Assert.Fails(IcdStatus.Http, () => client.CodeInfo("ZZ99.9"), "unknown code");
                Assert.Equal(404, e.HttpStatus, "HTTP status");
            }
        }

        [Test]
        public void Autocode()
        {
            using (IcdClient client = NewClient())
            using (IcdJson result = IcdJson.Parse(client.Autocode("cholera")))
            {
                Assert.Equal("1A00", result.String("/theCode"), "theCode");
            }
            LoggedRequest request = standIn.LastApiRequest();
            Assert.Equal("/icd/release/11/2026-01/mms/autocode", (string)request["path"], "path");
            Assert.Equal("cholera", StandIn.Query(request, "searchText"), "searchText");
        }

        [Test]
        public void Lookup()
        {
            const string foundationUri = "http://id.who.int/icd/entity/" + CholeraId;
            using (IcdClient client = NewClient())
            using (IcdJson entity = IcdJson.Parse(client.Lookup(foundationUri)))
            {
                Assert.Equal("1A00", entity.String("/code"), "code");
                Assert.Equal(CholeraUri, entity.String("/@id"), "@id");
            }
            LoggedRequest request = standIn.LastApiRequest();
            Assert.Equal("/icd/release/11/2026-01/mms/lookup", (string)request["path"], "path");
            Assert.Equal(foundationUri, StandIn.Query(request, "foundationUri"), "foundationUri");
        }

        [Test]
        public void SearchFailureReportedInTheBodyIsReturnedAsIs()
        {
            // The API answers 200 with "error": true. Since 0.2 Search fails on it (status 8, the
            // C ABI's ICD_ERR_API); Get still returns the JSON unchanged.
            standIn.Fault("{\"match\":\"/search\",\"kind\":\"json_error_200\",\"message\":\"boom\",\"count\":2}");
            using (IcdClient client = NewClient())
            {
                IcdException e = Assert.Fails(IcdStatus.Api, () => client.Search("cholera"), "error: true");
                Assert.Equal(200, e.HttpStatus, "HTTP status");
                Assert.Contains("boom", e.Message, "message");
                using (IcdJson result = IcdJson.Parse(client.Get(CholeraSearchPath)))
                {
                    Assert.Equal(true, result.Bool("/error"), "error");
                    Assert.Equal("boom", result.String("/errorMessage"), "errorMessage");
                }
            }
        }

        private const string CholeraSearchPath = "/icd/release/11/2026-01/mms/search?q=cholera";

        // ---- Language and Unicode ---------------------------------------------------------------

        [Test]
        public void LanguageChangesTitles()
        {
            using (IcdClient client = NewClient())
            {
                client.SetLanguage("en");
                Assert.Equal("Cholera", Title(client.Get(CholeraPath)), "English title");
                client.SetLanguage("fr");
                Assert.Equal("Choléra", Title(client.Get(CholeraPath)), "French title");
                client.SetLanguage("en");
                Assert.Equal("Cholera", Title(client.Get(CholeraPath)), "English title again (cached)");
            }
            List<LoggedRequest> log = standIn.ApiLog();
            Assert.Equal(2, log.Count, "requests (the cache is keyed by language)");
            Assert.Equal("fr", StandIn.Header(log[1], "accept-language"), "Accept-Language");
        }

        [Test]
        public void NonLatinTitlesDecodeFromUtf8()
        {
            using (IcdClient client = NewClient())
            {
                client.SetLanguage("zh");
                Assert.Equal("霍乱", Title(client.Get(CholeraPath)), "Chinese title");
                client.SetLanguage("ar");
                Assert.Equal("الكُوليرا", Title(client.Get(CholeraPath)), "Arabic title");
                client.SetLanguage("ru");
                Assert.Equal("Холера", Title(client.Get(CholeraPath)), "Russian title");
            }
        }

        // ---- Options ----------------------------------------------------------------------------

        [Test]
        public void ValidOptionValuesAreAccepted()
        {
            using (IcdClient client = NewClient())
            {
                client.SetLanguage("pt-BR");
                client.SetLanguage("en");
                client.SetRelease("2024-01");
                client.SetRelease("2026-01");
                client.SetLinearization("icf");
                client.SetLinearization("mms");
                client.SetApiVersion("v2");
                client.SetTimeout(TimeSpan.FromSeconds(10));
                client.SetTimeout(TimeSpan.FromTicks(2000)); // 0.2 ms, rounded up to 1 ms
                client.SetTimeout(TimeSpan.FromSeconds(30));
                client.SetMaxRetries(0);
                client.SetMaxRetries(10);
                client.SetMaxRetries(2);
                client.SetCacheEntries(0);
                client.SetCacheEntries(100);
                client.SetMaxResponseBytes(1024);
                client.SetMaxResponseBytes(1L << 40);
                client.SetUserAgent("csharp-tests/1.0 (+icdapi)");
                client.SetProxy("http://127.0.0.1:3128");
                client.SetProxy("none");
                client.SetCaFile("");
                if (File.Exists("/etc/ssl/certs/ca-certificates.crt"))
                {
                    client.SetCaFile("/etc/ssl/certs/ca-certificates.crt");
                    client.SetCaFile("");
                }
                client.SetLog(true);
                client.SetLog(false);
                client.SetConcurrency(1);
                client.SetConcurrency(64);
                client.SetConcurrency(8);
                client.SetCacheDirMaxBytes(65536);
                client.SetCacheDirMaxBytes(268435456);
                client.SetCacheDir("");
                client.SetTokenCacheFile("");
                client.SetOption("language", "en");
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "a search after all setters");
            }
            Assert.Equal("csharp-tests/1.0 (+icdapi)", StandIn.Header(standIn.LastApiRequest(), "user-agent"), "User-Agent");
        }

        [Test]
        public void ReleaseLinearizationAndApiVersionShapeTheRequest()
        {
            using (IcdClient client = NewClient())
            {
                client.SetRelease("2024-01");
                Assert.Equal("1A00", At(client.CodeInfo("1A00"), "/code"), "codeinfo in 2024-01");
                Assert.Equal("/icd/release/11/2024-01/mms/codeinfo/1A00", (string)standIn.LastApiRequest()["path"], "release in the path");

                client.SetLinearization("icf");
                client.Search("cholera");
                Assert.Equal("/icd/release/11/2024-01/icf/search", (string)standIn.LastApiRequest()["path"], "linearization in the path");

                client.SetApiVersion("v3");
                IcdException e = Assert.Fails(IcdStatus.Http, () => client.Search("typhoid"), "API-Version v3");
                Assert.Equal(400, e.HttpStatus, "the stand-in refuses API-Version v3");
                Assert.Equal("v3", StandIn.Header(standIn.LastApiRequest(), "api-version"), "API-Version header");
            }
        }

        [Test]
        public void InvalidOptionValuesThrowInvalidArgumentAndChangeNothing()
        {
            using (IcdClient client = NewClient())
            {
                var cases = new Dictionary<string, Action>
                {
                    { "language with a space", () => client.SetLanguage("en us") },
                    { "empty language", () => client.SetLanguage("") },
                    { "release with a slash", () => client.SetRelease("2026/01") },
                    { "linearization foundation", () => client.SetLinearization("foundation") },
                    { "api_version with a space", () => client.SetApiVersion("v 2") },
                    { "api_base ftp", () => client.SetApiBase("ftp://example.com") },
                    { "api_base plain http off loopback", () => client.SetApiBase("http://example.com") },
                    { "token_endpoint plain http off loopback", () => client.SetTokenEndpoint("http://example.com/connect/token") },
                    { "token_endpoint not a URL", () => client.SetTokenEndpoint("not a url") },
                    { "timeout zero", () => client.SetTimeout(TimeSpan.Zero) },
                    { "timeout negative", () => client.SetTimeout(TimeSpan.FromMilliseconds(-5)) },
                    { "timeout over a day", () => client.SetTimeout(TimeSpan.FromDays(2)) },
                    { "max_retries -1", () => client.SetMaxRetries(-1) },
                    { "max_retries 11", () => client.SetMaxRetries(11) },
                    { "cache_entries -1", () => client.SetCacheEntries(-1) },
                    { "max_response_bytes 100", () => client.SetMaxResponseBytes(100) },
                    { "user_agent with a newline", () => client.SetUserAgent("bad\nagent") },
                    { "empty user_agent", () => client.SetUserAgent("") },
                    { "https proxy", () => client.SetProxy("https://proxy.example:3128") },
                    { "proxy not a URL", () => client.SetProxy("not a url") },
                    { "missing ca_file", () => client.SetCaFile("/nonexistent/ca.pem") },
                    { "unknown option", () => client.SetOption("no_such_option", "1") },
                    { "log maybe", () => client.SetOption("log", "maybe") },
                    { "concurrency 0", () => client.SetConcurrency(0) },
                    { "concurrency 65", () => client.SetConcurrency(65) },
                    { "cache_dir_max_bytes 1000", () => client.SetCacheDirMaxBytes(1000) },
                    { "token_cache_file in a missing directory", () => client.SetTokenCacheFile("/nonexistent/dir/token.json") },
                };
                foreach (KeyValuePair<string, Action> c in cases)
                {
                    Assert.Fails(IcdStatus.InvalidArgument, c.Value, c.Key);
                }
                IcdException unknown = Assert.Fails(IcdStatus.InvalidArgument, () => client.SetOption("colour", "red"), "unknown option");
                Assert.Contains("language", unknown.Message, "the message lists the known options");
                Assert.Equal(0, unknown.HttpStatus, "no HTTP status");

                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "the client still works");
            }
            LoggedRequest request = standIn.LastApiRequest();
            Assert.Equal(SearchPath, (string)request["path"], "release and linearization unchanged");
            Assert.Equal("en", StandIn.Header(request, "accept-language"), "language unchanged");
            Assert.Equal("v2", StandIn.Header(request, "api-version"), "API-Version unchanged");
            Assert.Contains("icdapi/", StandIn.Header(request, "user-agent"), "User-Agent unchanged");
        }

        [Test]
        public void CacheEntriesZeroDisablesTheCache()
        {
            using (IcdClient client = NewClient())
            {
                client.Get(CholeraPath);
                client.Get(CholeraPath);
                Assert.Equal(1, standIn.ApiLog().Count, "requests with the cache");
                client.SetCacheEntries(0);
                client.Get(CholeraPath);
                client.Get(CholeraPath);
                Assert.Equal(3, standIn.ApiLog().Count, "requests without the cache");
            }
        }

        // ---- Clients ----------------------------------------------------------------------------

        [Test]
        public void LocalClientSendsNoToken()
        {
            standIn.Configure("{\"local\":true}");
            using (IcdClient client = IcdClient.Local(standIn.Url))
            {
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "first result");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.SetTokenEndpoint(standIn.Url + "/connect/token"), "token_endpoint on a local client");
            }
            Assert.Equal(null, StandIn.Header(standIn.LastApiRequest(), "authorization"), "Authorization");
            Assert.Equal(0.0, standIn.Stat("token_requests"), "token requests");
        }

        [Test]
        public void BadConstructorArguments()
        {
            Assert.Fails(IcdStatus.InvalidArgument, () => IcdClient.Local("ftp://example.com"), "Local with ftp://");
            Assert.Fails(IcdStatus.InvalidArgument, () => IcdClient.Local("not a url"), "Local with no URL");
            Assert.Fails(IcdStatus.InvalidArgument, () => IcdClient.Cloud("", ClientSecret), "empty client id");
            Assert.Fails(IcdStatus.InvalidArgument, () => IcdClient.Cloud(ClientId, ""), "empty secret");
            ArgumentNullException e = Assert.Throws<ArgumentNullException>(() => IcdClient.Cloud(ClientId, null), "only the secret null");
            Assert.Equal("clientSecret", e.ParamName, "ParamName");
            e = Assert.Throws<ArgumentNullException>(() => IcdClient.Cloud(null, ClientSecret), "only the id null");
            Assert.Equal("clientId", e.ParamName, "ParamName");
        }

        [Test]
        public void CloudAndLocalReadTheEnvironment()
        {
            // Environment.SetEnvironmentVariable does not reach the native environment on modern
            // .NET, so a child process gets the variables. It also runs with ICDAPI_LOG=debug, to
            // see the log and that it holds neither the secret nor a token.
            const string secret = "Env-Secret-7f3a9c";
            standIn.Configure("{\"client_secret\":\"" + secret + "\"}");
            var env = new Dictionary<string, string>
            {
                { "ICD_CLIENT_ID", ClientId },
                { "ICD_CLIENT_SECRET", secret },
                { "ICD_API_BASE", standIn.Url },
                { "ICD_TOKEN_ENDPOINT", standIn.Url + "/connect/token" },
                { "ICDAPI_LOG", "debug" },
            };
            string stderr;
            Assert.Equal("1A00", RunChild("cloud", env, out stderr), "cloud child's answer");
            Assert.True(stderr.Trim().Length > 0, "ICDAPI_LOG=debug wrote a log");
            Assert.DoesNotContain(secret, stderr, "the log");
            Assert.DoesNotContain("eyJ", stderr, "the log (a JWT)");
            Assert.Equal(1.0, standIn.Stat("tokens_issued"), "tokens issued to the child");

            standIn.Configure("{\"local\":true}");
            Assert.Equal("1A00", RunChild("local", env, out stderr), "local child's answer");

            env.Remove("ICD_CLIENT_ID");
            env.Remove("ICD_CLIENT_SECRET");
            env.Remove("ICD_API_BASE");
            Assert.Equal("InvalidArgument", RunChild("cloud", env, out stderr), "cloud child without the variables");
            Assert.Equal("InvalidArgument", RunChild("local", env, out stderr), "local child without ICD_API_BASE");
        }

        /// <summary>The child side of CloudAndLocalReadTheEnvironment: prints the first code found,
        /// or the status of the IcdException.</summary>
        internal static int EnvChild(string mode)
        {
            if (mode == "no-library")
            {
                return NoLibraryChild();
            }
            if (mode == "exit-with-calls-in-flight")
            {
                return ExitWithCallsInFlightChild();
            }
            try
            {
                using (IcdClient client = mode == "local" ? IcdClient.Local(null) : IcdClient.Cloud(null, null))
                {
                    if (mode == "token-file")
                    {
                        client.SetTokenCacheFile(Environment.GetEnvironmentVariable("ICDAPI_TEST_TOKEN_FILE"));
                    }
                    Console.WriteLine(FirstCode(client.Search("cholera")));
                }
            }
            catch (IcdException e)
            {
                Console.WriteLine(e.Status);
            }
            return 0;
        }

        /// <summary>The child side of DllNotFoundSaysWhatToDo, run where no libicdapi can be found:
        /// prints what each entry point threw.</summary>
        private static int NoLibraryChild()
        {
            var entryPoints = new Dictionary<string, Action>
            {
                ["Version"] = () => Console.Error.WriteLine(IcdClient.Version),
                ["Cloud"] = () => IcdClient.Cloud("id", "secret").Dispose(),
                ["Local"] = () => IcdClient.Local("http://127.0.0.1:1").Dispose(),
                ["Parse"] = () => IcdJson.Parse("{}").Dispose(),
            };
            foreach (KeyValuePair<string, Action> entry in entryPoints)
            {
                try
                {
                    entry.Value();
                    Console.WriteLine(entry.Key + ": no exception");
                }
                catch (Exception e)
                {
                    Console.WriteLine(entry.Key + ": " + e.GetType().FullName + ": " + e.Message.Replace('\n', ' '));
                }
            }
            return 0;
        }

        [Test]
        public void DllNotFoundSaysWhatToDo()
        {
            // A child without LD_LIBRARY_PATH: nothing beside the test program, nothing on the path.
            string stderr;
            string output = RunChild("no-library", new Dictionary<string, string>(), out stderr, "LD_LIBRARY_PATH");
            string[] lines = output.Split('\n').Select(l => l.Trim()).ToArray();
            Assert.Equal(4, lines.Length, "one line per entry point: " + output);
            foreach (string line in lines)
            {
                Assert.Contains(": System.DllNotFoundException: The native library of icdapi was not found", line, "the exception and its first words");
                foreach (string hint in new[] { "\"icdapi\"", "libicdapi.so", "NuGet package IcdApi", "runtimes/linux-x64/native/libicdapi.so",
                                                "cargo build --release", "LD_LIBRARY_PATH", "beside your application", "The runtime said: " })
                {
                    Assert.Contains(hint, line, "what to do");
                }
            }
        }

        private static string RunChild(string mode, Dictionary<string, string> env, out string stderr, params string[] unset)
        {
            string runtime = Process.GetCurrentProcess().MainModule.FileName;
            string program = Assembly.GetEntryAssembly().Location;
            bool apphost = Path.GetFileNameWithoutExtension(runtime) == Path.GetFileNameWithoutExtension(program);
            var info = new ProcessStartInfo(runtime, (apphost ? "" : "\"" + program + "\" ") + "--env-child " + mode)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string name in new[] { "ICD_CLIENT_ID", "ICD_CLIENT_SECRET", "ICD_API_BASE", "ICD_TOKEN_ENDPOINT", "ICDAPI_LOG", "ICDAPI_TEST_TOKEN_FILE" })
            {
                info.EnvironmentVariables.Remove(name);
            }
            foreach (KeyValuePair<string, string> v in env)
            {
                info.EnvironmentVariables[v.Key] = v.Value;
            }
            foreach (string name in unset)
            {
                info.EnvironmentVariables.Remove(name);
            }
            using (Process child = Process.Start(info))
            {
                string err = null;
                var errReader = new Thread(() => err = child.StandardError.ReadToEnd());
                errReader.Start();
                string output = child.StandardOutput.ReadToEnd();
                Assert.True(child.WaitForExit(30000), "the child finished");
                errReader.Join();
                stderr = err ?? "";
                Assert.Equal(0, child.ExitCode, "child exit code; stderr: " + stderr);
                return output.Trim();
            }
        }

        // ---- Errors -----------------------------------------------------------------------------

        [Test]
        public void WrongSecretIsAuthAndTheMessageHidesIt()
        {
            const string secret = "Wrong-S3cret-Do-Not-Leak-91b2";
            using (IcdClient client = NewClient(secret))
            {
                IcdException e = Assert.Fails(IcdStatus.Auth, () => client.Search("cholera"), "wrong secret");
                Assert.DoesNotContain(secret, e.Message, "the message");
                Assert.DoesNotContain(secret, e.ToString(), "ToString()");
            }
            Assert.Equal(0.0, standIn.Stat("api_requests"), "API requests without a token");
        }

        [Test]
        public void NoMessageContainsTheSecret()
        {
            const string secret = "S3cret-In-No-Message-4e1d";
            standIn.Configure("{\"client_secret\":\"" + secret + "\"}");
            var messages = new List<string>();
            using (IcdClient client = NewClient(secret))
            {
                messages.Add(Assert.Fails(IcdStatus.Http, () => client.CodeInfo("ZZ99.9"), "unknown code").Message);
                messages.Add(Assert.Fails(IcdStatus.InvalidArgument, () => client.Get("https://example.com/x"), "foreign host").Message);
                messages.Add(Assert.Fails(IcdStatus.InvalidArgument, () => client.SetOption("client_secret", secret), "unknown option").Message);
                standIn.Revoke();
                standIn.Fault("{\"match\":\"/icd/\",\"kind\":\"status\",\"status\":401,\"count\":0}");
                messages.Add(Assert.Fails(IcdStatus.Auth, () => client.CodeInfo("1F4Z"), "401 with a fresh token").Message);
                standIn.Reset();
                standIn.Configure("{\"client_secret\":\"another\"}");
                standIn.Revoke();
                messages.Add(Assert.Fails(IcdStatus.Auth, () => client.CodeInfo("FB32.5"), "secret no longer accepted").Message);
            }
            foreach (string message in messages)
            {
                Assert.DoesNotContain(secret, message, "a message");
            }
        }

        [Test]
        public void ForeignHostIsRefusedWithoutARequest()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Get("https://example.com/icd/entity"), "foreign host");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Get("http://id.who.int.example.com/icd/entity"), "look-alike host");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Post("https://example.com/icd/entity/search", "{}"), "foreign host (POST)");
            }
            Assert.Equal(0.0, standIn.Stat("token_requests"), "token requests");
            Assert.Equal(0, standIn.ApiLog().Count, "API requests");
        }

        [Test]
        public void EmptyArgumentsAreInvalid()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Search(""), "empty query");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Get(""), "empty path");
            }
        }

        [Test]
        public void NonJsonAnswerIsParse()
        {
            standIn.Fault("{\"match\":\"/search\",\"kind\":\"non_json\"}");
            using (IcdClient client = NewClient())
            {
                IcdException e = Assert.Fails(IcdStatus.Parse, () => client.Search("cholera"), "HTML answer");
                Assert.Equal(200, e.HttpStatus, "HTTP status");
            }
        }

        [Test]
        public void HangingServerIsTimeout()
        {
            standIn.Fault("{\"match\":\"/search\",\"kind\":\"hang\",\"seconds\":5}");
            using (IcdClient client = NewClient())
            {
                client.SetTimeout(TimeSpan.FromMilliseconds(500));
                var clock = Stopwatch.StartNew();
                Assert.Fails(IcdStatus.Timeout, () => client.Search("cholera"), "hang");
                Assert.True(clock.ElapsedMilliseconds < 3000, "gave up after " + clock.ElapsedMilliseconds + " ms");
            }
        }

        [Test]
        public void CutConnectionsAreNetwork()
        {
            using (IcdClient client = NewClient())
            {
                client.SetMaxRetries(0);
                client.SetCacheEntries(0);
                foreach (string kind in new[] { "drop", "reset", "truncate" })
                {
                    standIn.Fault("{\"match\":\"/search\",\"kind\":\"" + kind + "\"}");
                    IcdException e = Assert.Fails(IcdStatus.Network, () => client.Search("cholera"), kind);
                    Assert.True(e.HttpStatus == 0 || kind == "truncate", kind + ": HTTP status " + e.HttpStatus);
                }
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "the client recovers");
            }
        }

        [Test]
        public void CutConnectionIsRetried()
        {
            standIn.Fault("{\"match\":\"/search\",\"kind\":\"drop\"}");
            using (IcdClient client = NewClient())
            {
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "answer after a retry");
            }
            Assert.Equal(2, standIn.ApiLog().Count, "attempts");
        }

        [Test]
        public void BodyOverMaxResponseBytesIsNetwork()
        {
            standIn.Fault("{\"match\":\"/search\",\"kind\":\"large\",\"bytes\":200000,\"count\":2}");
            using (IcdClient client = NewClient())
            {
                client.SetCacheEntries(0);
                client.SetMaxResponseBytes(100000);
                Assert.Fails(IcdStatus.Network, () => client.Search("cholera"), "200000 bytes over a 100000 limit");
                client.SetMaxResponseBytes(300000);
                string body = client.Search("cholera");
                Assert.Equal(200000, Encoding.UTF8.GetByteCount(body), "body length under the limit");
            }
        }

        [Test]
        public void ServiceUnavailableIsRetriedThenReported()
        {
            using (IcdClient client = NewClient())
            {
                client.SetCacheEntries(0);
                standIn.Fault("{\"match\":\"/search\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"0\",\"count\":2}");
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "answer after two retries");
                Assert.Equal(3, standIn.ApiLog().Count, "attempts");

                client.SetMaxRetries(0);
                standIn.Fault("{\"match\":\"/search\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"0\"}");
                IcdException e = Assert.Fails(IcdStatus.Http, () => client.Search("cholera"), "503 without retries");
                Assert.Equal(503, e.HttpStatus, "HTTP status");
            }
        }

        [Test]
        public void RedirectsAreFollowedOnlyWithinTheApi()
        {
            using (IcdClient client = NewClient())
            {
                standIn.Fault("{\"match\":\"/search\",\"kind\":\"redirect\",\"location\":\"/icd/release/11/2026-01/mms/codeinfo/1A00\"}");
                Assert.Equal("1A00", At(client.Search("cholera"), "/code"), "redirect within the API");

                // Another port is another origin: the token must not go there.
                standIn.Fault("{\"match\":\"/search\",\"kind\":\"redirect\",\"location\":\"http://127.0.0.1:1/icd/release/11/2026-01/mms/search?q=x\"}");
                IcdException e = Assert.Fails(IcdStatus.Http, () => client.Search("typhoid"), "redirect outside the API");
                Assert.Equal(302, e.HttpStatus, "HTTP status");
            }
        }

        [Test]
        public void RevokedTokenIsReplacedOnce()
        {
            using (IcdClient client = NewClient())
            {
                client.Search("cholera");
                standIn.Revoke();
                Assert.Equal("1A00", At(client.CodeInfo("1A00"), "/code"), "answer after a 401");
            }
            Assert.Equal(2.0, standIn.Stat("tokens_issued"), "tokens issued");
            Assert.Equal(1.0, standIn.Stat("api_401"), "401 answers");
        }

        [Test]
        public void ErrorIsClearedBySuccess()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Fails(IcdStatus.Http, () => client.CodeInfo("ZZ99.9"), "unknown code");
                Assert.Equal("1A00", FirstCode(client.Search("cholera")), "a success after a failure");
                IcdException e = Assert.Fails(IcdStatus.InvalidArgument, () => client.SetLanguage("x y"), "bad language");
                Assert.Equal(0, e.HttpStatus, "no HTTP status for an option error");
            }
        }

        // ---- Managed argument checks -------------------------------------------------------------

        [Test]
        public void NullArgumentsThrowArgumentNullException()
        {
            var none = new Dictionary<string, string>();
            using (IcdClient client = NewClient())
            {
                // (the call, the ParamName it must name: the C# parameter, never a native one)
                var cases = new List<KeyValuePair<Action, string>>
                {
                    Case(() => client.Get(null), "pathOrUri"),
                    Case(() => client.Post(null, "{}"), "pathOrUri"),
                    Case(() => client.Post(SearchPath, null), "jsonBody"),
                    Case(() => client.Search(null), "query"),
                    Case(() => client.CodeInfo(null), "code"),
                    Case(() => client.Autocode(null), "text"),
                    Case(() => client.Lookup(null), "foundationUri"),
                    Case(() => client.GetMany(null), "pathsOrUris"),
                    Case(() => client.Get(null, none), "pathOrUri"),
                    Case(() => client.Search(null, none), "query"),
                    Case(() => client.CodeInfo(null, none), "code"),
                    Case(() => client.Autocode(null, none), "text"),
                    Case(() => client.Get(CholeraPath, null), "parameters"),
                    Case(() => client.Search("cholera", null), "parameters"),
                    Case(() => client.CodeInfo("1A00", null), "parameters"),
                    Case(() => client.Autocode("cholera", null), "parameters"),
                    Case(() => client.EntityByCode(null), "code"),
                    Case(() => client.Icd10(null), "code"),
                    Case(() => client.GetOption(null), "name"),
                    Case(() => client.SetOption(null, "en"), "name"),
                    Case(() => client.SetOption("language", null), "value"),
                    Case(() => client.SetLanguage(null), "language"),
                    Case(() => client.SetRelease(null), "release"),
                    Case(() => client.SetIcd10Release(null), "release"),
                    Case(() => client.SetLinearization(null), "linearization"),
                    Case(() => client.SetApiVersion(null), "apiVersion"),
                    Case(() => client.SetApiBase(null), "apiBase"),
                    Case(() => client.SetTokenEndpoint(null), "tokenEndpoint"),
                    Case(() => client.SetUserAgent(null), "userAgent"),
                    Case(() => client.SetProxy(null), "proxy"),
                    Case(() => client.SetCaFile(null), "caFile"),
                    Case(() => client.SetTokenCacheFile(null), "path"),
                    Case(() => client.SetCacheDir(null), "directory"),
                    Case(() => IcdJson.Parse(null), "json"),
                };
                foreach (KeyValuePair<Action, string> c in cases)
                {
                    ArgumentNullException e = Assert.Throws<ArgumentNullException>(c.Key, c.Value);
                    Assert.Equal(c.Value, e.ParamName, "ParamName");
                }
                using (IcdJson doc = IcdJson.Parse("{}"))
                {
                    foreach (Action read in new Action[] { () => doc.String(null), () => doc.Count(null), () => doc.Number(null), () => doc.Bool(null), () => doc.Type(null) })
                    {
                        Assert.Equal("pointer", Assert.Throws<ArgumentNullException>(read, "a null pointer").ParamName, "ParamName");
                    }
                }
            }
            Assert.Equal(0, standIn.ApiLog().Count, "requests sent");
        }

        private static KeyValuePair<Action, string> Case(Action call, string paramName) =>
            new KeyValuePair<Action, string>(call, paramName);

        [Test]
        public void StringsCIsUnableToCarryThrowArgumentException()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Throws<ArgumentException>(() => client.Search("chol\0era"), "embedded NUL");
                Assert.Throws<ArgumentException>(() => client.CodeInfo("1A00\0"), "trailing NUL");
                Assert.Throws<ArgumentException>(() => client.Search("chol\ud800era"), "lone surrogate");
                Assert.Throws<ArgumentException>(() => IcdClient.Cloud("id\0", "secret"), "NUL in the client id");
            }
            Assert.Equal(0, standIn.ApiLog().Count, "requests sent");
        }

        // ---- Dispose ----------------------------------------------------------------------------

        [Test]
        public void CallsAfterDisposeThrowObjectDisposedException()
        {
            IcdClient client = NewClient();
            client.Dispose();
            client.Dispose(); // idempotent
            var calls = new Dictionary<string, Action>
            {
                { "Get", () => client.Get(CholeraPath) },
                { "Post", () => client.Post(SearchPath, "{}") },
                { "Search", () => client.Search("cholera") },
                { "CodeInfo", () => client.CodeInfo("1A00") },
                { "Autocode", () => client.Autocode("cholera") },
                { "Lookup", () => client.Lookup("http://id.who.int/icd/entity/" + CholeraId) },
                { "GetMany", () => client.GetMany(new[] { CholeraPath }) },
                { "GetMany (empty)", () => client.GetMany(new string[0]) },
                { "SetConcurrency", () => client.SetConcurrency(4) },
                { "SetOption", () => client.SetOption("language", "fr") },
                { "SetLanguage", () => client.SetLanguage("fr") },
                { "SetTimeout", () => client.SetTimeout(TimeSpan.FromSeconds(1)) },
                { "SetLog", () => client.SetLog(true) },
                { "Get with parameters", () => client.Get(CholeraPath, new Dictionary<string, string>()) },
                { "Search with parameters", () => client.Search("cholera", new Dictionary<string, string> { ["flatResults"] = "true" }) },
                { "CodeInfo with parameters", () => client.CodeInfo("1A00", new Dictionary<string, string>()) },
                { "Autocode with parameters", () => client.Autocode("cholera", new Dictionary<string, string>()) },
                { "EntityByCode", () => client.EntityByCode("1A00") },
                { "Icd10", () => client.Icd10("A00") },
                { "SetIcd10Release", () => client.SetIcd10Release("2016") },
                { "GetOption", () => client.GetOption("release") },
            };
            foreach (KeyValuePair<string, Action> c in calls)
            {
                ObjectDisposedException e = Assert.Throws<ObjectDisposedException>(c.Value, c.Key);
                Assert.Equal("IcdClient", e.ObjectName, c.Key + ": ObjectName");
            }
            using (IcdClient other = NewClient())
            {
                Assert.Equal("1A00", FirstCode(other.Search("cholera")), "another client still works");
            }
        }

        [Test]
        public void DisposeDuringACallWaitsForIt()
        {
            standIn.Fault("{\"match\":\"/search\",\"kind\":\"hang\",\"seconds\":1}");
            IcdClient client = NewClient();
            string result = null;
            Exception failure = null;
            var caller = new Thread(() =>
            {
                try
                {
                    result = client.Search("cholera");
                }
                catch (Exception e)
                {
                    failure = e;
                }
            });
            caller.Start();
            var clock = Stopwatch.StartNew();
            while (!standIn.ApiLog().Any(r => ((string)r["path"]).EndsWith("/search", StringComparison.Ordinal)))
            {
                Assert.True(clock.ElapsedMilliseconds < 10000, "the call reached the stand-in");
                Thread.Sleep(20);
            }
            client.Dispose(); // while the call hangs in the native library
            Assert.Throws<ObjectDisposedException>(() => client.CodeInfo("1A00"), "a call after Dispose");
            Assert.True(caller.Join(15000), "the call under way finished");
            Assert.Equal(null, failure, "the call under way failed");
            Assert.Equal("1A00", FirstCode(result), "the call under way answered");
            client.Dispose();
        }

        // ---- Batches ----------------------------------------------------------------------------

        /// <summary>Twenty entities of the stand-in's data set, as MMS paths of release 2026-01.</summary>
        private static readonly string[] EntityIds =
        {
            "1435254666", "588616678", "135352227", "257068234", "416025325", "2080365623", "344162786",
            "250688797", "1000894786", "794462570", "1528414070", "1780040028", "515117475",
            "135352227/other", "135352227/unspecified", "255141529", "1439886552", "579583286",
            "1203794080", "862789727",
        };

        private const string MmsPath = "/icd/release/11/2026-01/mms/";

        [Test]
        public void GetManyAnswersEveryItemInOrderWithOneToken()
        {
            // Every third item as an http://id.who.int URI, the others as paths.
            List<string> targets = EntityIds
                .Select((id, i) => (i % 3 == 2 ? "http://id.who.int" : "") + MmsPath + id)
                .ToList();
            IcdBatchResult result;
            using (IcdClient client = NewClient())
            {
                result = client.GetMany(targets);
            }
            Assert.Equal(EntityIds.Length, result.Count, "items");
            Assert.Equal(EntityIds.Length, result.SucceededCount, "items that succeeded");
            Assert.True(result.AllSucceeded, "all succeeded");
            Assert.Equal(null, result.FirstError, "FirstError");
            for (int i = 0; i < EntityIds.Length; i++)
            {
                IcdBatchItem item = result[i];
                Assert.Equal(i, item.Index, "Index");
                Assert.Equal(targets[i], item.PathOrUri, "PathOrUri");
                Assert.Equal(IcdStatus.Ok, item.Status, "status of item " + i);
                Assert.Equal(200, item.HttpStatus, "HTTP status of item " + i);
                Assert.True(item.Succeeded, "item " + i + " succeeded");
                Assert.Equal("http://id.who.int" + MmsPath + EntityIds[i],
                    At(item.Body, "/@id"), "@id of item " + i);
            }
            Assert.Equal(result[3].Body, result.Bodies()[3], "Bodies()");
            Assert.Equal(EntityIds.Length, result.Count(item => item.Succeeded), "enumeration");
            Assert.True(result.EnsureAllSucceeded() == result, "EnsureAllSucceeded");
            Assert.Equal(1.0, standIn.Stat("tokens_issued"), "tokens issued");
            Assert.Equal(1.0, standIn.Stat("token_requests"), "token requests");
            Assert.Equal((double)EntityIds.Length, standIn.Stat("api_requests"), "API requests");
        }

        [Test]
        public void GetManyFailsItemsOnTheirOwn()
        {
            var targets = new[]
            {
                CholeraPath,
                MmsPath + "codeinfo/ZZ99.9",        // 404
                "https://example.com/icd/entity",   // another host: never requested
                null,                               // not requested either
                "/icd/chol\0era",                  // C cannot carry it
                MmsPath + "codeinfo/1A00",
                CholeraUri,
            };
            IcdBatchResult result;
            using (IcdClient client = NewClient())
            {
                result = client.GetMany(targets);
            }
            var expected = new[]
            {
                IcdStatus.Ok, IcdStatus.Http, IcdStatus.InvalidArgument, IcdStatus.InvalidArgument,
                IcdStatus.InvalidArgument, IcdStatus.Ok, IcdStatus.Ok,
            };
            // Every item has its own HTTP status: 0 for those never requested.
            var expectedHttp = new[] { 200, 404, 0, 0, 0, 200, 200 };
            for (int i = 0; i < targets.Length; i++)
            {
                Assert.Equal(expected[i], result[i].Status, "status of item " + i);
                Assert.Equal(expectedHttp[i], result[i].HttpStatus, "HTTP status of item " + i);
                Assert.Equal(expected[i] == IcdStatus.Ok, result[i].Body != null, "body of item " + i);
            }
            Assert.Equal("Cholera", Title(result[0].Body), "item 0");
            Assert.Equal("1A00", At(result[5].Body, "/code"), "item 5");
            Assert.Equal("Cholera", Title(result[6].Body), "item 6");
            Assert.Equal(3, result.SucceededCount, "items that succeeded");
            Assert.True(!result.AllSucceeded, "not all succeeded");

            IcdException first = result.FirstError;
            Assert.True(first != null, "FirstError is set");
            Assert.Equal(IcdStatus.Http, first.Status, "FirstError.Status");
            Assert.Equal(404, first.HttpStatus, "FirstError.HttpStatus");
            Assert.True(first.Message.StartsWith("item 1: ", StringComparison.Ordinal), "FirstError names item 1: " + first.Message);
            Assert.Contains("404", first.Message, "FirstError's message");
            Assert.True(Assert.Throws<IcdException>(() => result.EnsureAllSucceeded(), "EnsureAllSucceeded") == first, "throws FirstError");

            Assert.True(standIn.ApiLog().All(r => !((string)r["target"]).Contains("chol")), "item 4 was not requested");
        }

        [Test]
        public void GetManyTellsNoSuchCodeFromTryAgainLater()
        {
            using (IcdClient client = NewClient())
            {
                client.SetCacheEntries(0);
                client.SetMaxRetries(0);
                standIn.Fault("{\"match\":\"/codeinfo/1A00\",\"kind\":\"status\",\"status\":503,\"retry_after\":\"0\",\"count\":0}");
                IcdBatchResult result = client.GetMany(new[] { MmsPath + "codeinfo/ZZ99.9", MmsPath + "codeinfo/1A00", CholeraPath });
                Assert.Equal(IcdStatus.Http, result[0].Status, "status of the unknown code");
                Assert.Equal(404, result[0].HttpStatus, "no such code");
                Assert.Equal(IcdStatus.Http, result[1].Status, "status of the unavailable item");
                Assert.Equal(503, result[1].HttpStatus, "try again later: not the first failure, still known");
                Assert.Equal(200, result[2].HttpStatus, "the success");
                Assert.Equal(404, result.FirstError.HttpStatus, "FirstError is about item 0");
            }
        }

        [Test]
        public void GetManyFirstErrorIsAboutTheFirstFailedItem()
        {
            using (IcdClient client = NewClient())
            {
                IcdBatchResult refused = client.GetMany(new[] { CholeraPath, null, "https://example.com/x" });
                Assert.Equal(IcdStatus.InvalidArgument, refused.FirstError.Status, "a null element");
                Assert.Equal("item 1: the path or URI is null", refused.FirstError.Message, "message");
                Assert.Equal(0, refused.FirstError.HttpStatus, "no HTTP status");
                Assert.Equal(200, refused[0].HttpStatus, "HTTP status of the success");
                Assert.Equal(0, refused[1].HttpStatus, "HTTP status of the null element");
                Assert.Equal(0, refused[2].HttpStatus, "HTTP status of another host");

                IcdBatchResult foreign = client.GetMany(new List<string> { "https://example.com/x", MmsPath + "codeinfo/ZZ99.9" });
                Assert.Equal(IcdStatus.InvalidArgument, foreign.FirstError.Status, "another host first");
                Assert.Contains("item 0: ", foreign.FirstError.Message, "message");
                Assert.Equal(0, foreign.FirstError.HttpStatus, "no HTTP status");
                Assert.Equal(IcdStatus.Http, foreign[1].Status, "the 404 after it");
                Assert.Equal(0, foreign[0].HttpStatus, "HTTP status of another host");
                Assert.Equal(404, foreign[1].HttpStatus, "HTTP status of the 404 after it: every failed item has its own");
                Assert.Equal("[1] Http (HTTP 404) " + MmsPath + "codeinfo/ZZ99.9", foreign[1].ToString(), "ToString");

                IcdBatchResult lone = client.GetMany(new[] { "/icd/\ud800" });
                Assert.Equal(IcdStatus.InvalidArgument, lone[0].Status, "a lone surrogate");
                Assert.Equal(0, lone[0].HttpStatus, "HTTP status of a lone surrogate");
                Assert.Contains("surrogate", lone.FirstError.Message, "message");

                // A single Get after a batch reports its own outcome, not the batch's.
                Assert.Equal("Cholera", Title(client.Get(CholeraPath)), "Get after a batch");
            }
        }

        [Test]
        public void GetManyOfNothingAndOfNull()
        {
            using (IcdClient client = NewClient())
            {
                IcdBatchResult empty = client.GetMany(new string[0]);
                Assert.Equal(0, empty.Count, "items");
                Assert.True(empty.AllSucceeded, "an empty batch succeeded");
                Assert.Equal(null, empty.FirstError, "FirstError");
                ArgumentNullException e = Assert.Throws<ArgumentNullException>(() => client.GetMany(null), "null");
                Assert.Equal("pathsOrUris", e.ParamName, "ParamName");
            }
            Assert.Equal(0.0, standIn.Stat("token_requests"), "token requests");
            Assert.Equal(0, standIn.ApiLog().Count, "API requests");
        }

        [Test]
        public void ConcurrencyBoundsTheRequestsInFlight()
        {
            standIn.Configure("{\"delay_ms\":150}");
            List<string> targets = EntityIds.Take(8).Select(id => MmsPath + id).ToList();
            using (IcdClient client = NewClient())
            {
                client.CodeInfo("1A00"); // the token, outside the clock
                client.SetCacheEntries(0);

                client.SetConcurrency(1);
                var clock = Stopwatch.StartNew();
                Assert.True(client.GetMany(targets).AllSucceeded, "all succeeded one at a time");
                long serial = clock.ElapsedMilliseconds;
                Assert.True(serial >= 8 * 150, "one at a time took " + serial + " ms");

                client.SetConcurrency(8);
                clock.Restart();
                Assert.True(client.GetMany(targets).AllSucceeded, "all succeeded eight at a time");
                long parallel = clock.ElapsedMilliseconds;
                Assert.True(parallel < 4 * 150, "eight at a time took " + parallel + " ms (one at a time: " + serial + " ms)");

                Assert.Fails(IcdStatus.InvalidArgument, () => client.SetConcurrency(0), "concurrency 0");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.SetConcurrency(65), "concurrency 65");
                client.SetConcurrency(64);
            }
        }

        // ---- Tokens shared within the process and between processes ------------------------------

        [Test]
        public void ClientsCreatedAndDisposedInALoopShareOneToken()
        {
            for (int i = 0; i < 20; i++)
            {
                using (IcdClient client = NewClient())
                {
                    Assert.Equal("1A00", At(client.CodeInfo("1A00"), "/code"), "client " + i);
                }
            }
            Assert.Equal(1.0, standIn.Stat("tokens_issued"), "tokens issued");
            Assert.Equal(1.0, standIn.Stat("token_requests"), "token requests");
            Assert.Equal(20.0, standIn.Stat("api_requests"), "API requests (each client has its own response cache)");
        }

        [Test]
        public void TokenCacheFileIsPrivateAndSharedWithAnotherProcess()
        {
            string dir = NewTempDirectory();
            try
            {
                string file = Path.Combine(dir, "icd-token.json");
                using (IcdClient client = NewClient())
                {
                    client.SetTokenCacheFile(file);
                    Assert.Equal("1A00", At(client.CodeInfo("1A00"), "/code"), "answer");
                }
                Assert.True(File.Exists(file), "the token file exists");
                string mode = FileMode(file);
                if (mode != null)
                {
                    Assert.Equal("600", mode, "mode of the token file");
                }
                Assert.DoesNotContain(ClientSecret, File.ReadAllText(file), "the token file");
                Assert.Equal(1.0, standIn.Stat("tokens_issued"), "tokens issued to this process");

                // Another process, same credentials and file: it reads the token instead of asking.
                var env = new Dictionary<string, string>
                {
                    { "ICD_CLIENT_ID", ClientId },
                    { "ICD_CLIENT_SECRET", ClientSecret },
                    { "ICD_API_BASE", standIn.Url },
                    { "ICD_TOKEN_ENDPOINT", standIn.Url + "/connect/token" },
                    { "ICDAPI_TEST_TOKEN_FILE", file },
                };
                string stderr;
                Assert.Equal("1A00", RunChild("token-file", env, out stderr), "the child's answer; stderr: " + stderr);
                Assert.Equal(1.0, standIn.Stat("tokens_issued"), "tokens issued after the child");
                Assert.Equal(1.0, standIn.Stat("token_requests"), "token requests after the child");
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        [Test]
        public void TokenCacheFileRefusesUnsafePaths()
        {
            string dir = NewTempDirectory();
            try
            {
                using (IcdClient client = NewClient())
                {
                    Assert.Fails(IcdStatus.InvalidArgument, () => client.SetTokenCacheFile(Path.Combine(dir, "no-such-dir", "token.json")), "missing directory");

                    string open = Path.Combine(dir, "readable.json");
                    File.WriteAllText(open, "{}");
                    if (RunTool("chmod", "644", open) != null)
                    {
                        IcdException e = Assert.Fails(IcdStatus.InvalidArgument, () => client.SetTokenCacheFile(open), "a file others may read");
                        Assert.Contains("readable.json", e.Message, "the message names the file");
                    }
                    string link = Path.Combine(dir, "link.json");
                    if (RunTool("ln", "-s", Path.Combine(dir, "elsewhere.json"), link) != null)
                    {
                        Assert.Fails(IcdStatus.InvalidArgument, () => client.SetTokenCacheFile(link), "a symlink");
                    }
                    client.SetTokenCacheFile(Path.Combine(dir, "token.json"));
                    client.SetTokenCacheFile(""); // off again
                    Assert.Equal("1A00", At(client.CodeInfo("1A00"), "/code"), "the client still works");
                }
                Assert.True(!File.Exists(Path.Combine(dir, "token.json")), "no file written once turned off");
                using (IcdClient local = IcdClient.Local(standIn.Url))
                {
                    Assert.Fails(IcdStatus.InvalidArgument, () => local.SetTokenCacheFile(Path.Combine(dir, "token.json")), "on a local client");
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }

        // ---- Disk cache -------------------------------------------------------------------------

        [Test]
        public void CacheDirAnswersFixedReleasesAcrossClients()
        {
            string root = NewTempDirectory();
            string dir = Path.Combine(root, "icd-cache"); // created by the library
            try
            {
                using (IcdClient first = NewClient())
                {
                    first.SetCacheDir(dir);
                    Assert.Equal("1A00", At(first.CodeInfo("1A00"), "/code"), "first answer");
                    Assert.Equal("Cholera", Title(first.Get(CholeraPath)), "first entity");
                }
                Assert.True(Directory.Exists(dir), "the cache directory was created");
                string mode = FileMode(dir);
                if (mode != null)
                {
                    Assert.Equal("700", mode, "mode of the cache directory");
                }
                Assert.True(Directory.GetFiles(dir).Length >= 2, "entries on disk: " + Directory.GetFiles(dir).Length);
                double requests = standIn.Stat("api_requests");
                Assert.Equal(2.0, requests, "API requests of the first client");

                // The API now fails codeinfo; a new client with the same directory does not ask it.
                standIn.Fault("{\"match\":\"/codeinfo/\",\"kind\":\"status\",\"status\":500,\"count\":5}");
                using (IcdClient second = NewClient())
                {
                    second.SetCacheDir(dir);
                    second.SetMaxRetries(0);
                    Assert.Equal("1A00", At(second.CodeInfo("1A00"), "/code"), "answer from disk");
                    IcdBatchResult batch = second.GetMany(new[] { CholeraPath, MmsPath + "codeinfo/1A00" });
                    Assert.True(batch.AllSucceeded, "a batch from disk");
                    Assert.True(batch.All(item => item.HttpStatus == 200), "HTTP status 200 from disk");
                }
                Assert.Equal(requests, standIn.Stat("api_requests"), "API requests after the second client");

                // Without the directory the fault is there.
                using (IcdClient third = NewClient())
                {
                    third.SetMaxRetries(0);
                    IcdException e = Assert.Fails(IcdStatus.Http, () => third.CodeInfo("1A00"), "without the disk cache");
                    Assert.Equal(500, e.HttpStatus, "HTTP status");
                }
            }
            finally
            {
                Directory.Delete(root, true);
            }
        }

        [Test]
        public void CacheDirOptions()
        {
            string root = NewTempDirectory();
            try
            {
                using (IcdClient client = NewClient())
                {
                    client.SetCacheDirMaxBytes(65536);
                    client.SetCacheDirMaxBytes(1L << 30);
                    Assert.Fails(IcdStatus.InvalidArgument, () => client.SetCacheDirMaxBytes(65535), "cache_dir_max_bytes 65535");
                    Assert.Fails(IcdStatus.InvalidArgument, () => client.SetCacheDirMaxBytes(-1), "cache_dir_max_bytes -1");
                    string file = Path.Combine(root, "a-file");
                    File.WriteAllText(file, "");
                    Assert.Fails(IcdStatus.InvalidArgument, () => client.SetCacheDir(file), "cache_dir on a file");
                    client.SetCacheDir(Path.Combine(root, "cache"));
                    client.SetCacheDir(""); // off
                    client.SetCacheEntries(0);
                    client.CodeInfo("1A00");
                    client.CodeInfo("1A00");
                }
                Assert.Equal(2.0, standIn.Stat("api_requests"), "no cache at all");
            }
            finally
            {
                Directory.Delete(root, true);
            }
        }

        private static string NewTempDirectory()
        {
            string dir = Path.Combine(Path.GetTempPath(), "icdapi-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }

        /// <summary>The permission bits in octal ("600"), or null where stat(1) is not available.</summary>
        private static string FileMode(string path)
        {
            string output = RunTool("stat", "-c", "%a", path);
            return output?.Trim();
        }

        /// <summary>Runs a program; its standard output, or null if it could not run or failed.</summary>
        private static string RunTool(string program, params string[] args)
        {
            var info = new ProcessStartInfo(program, string.Join(" ", args.Select(a => "\"" + a + "\"")))
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            try
            {
                using (Process process = Process.Start(info))
                {
                    string output = process.StandardOutput.ReadToEnd();
                    process.StandardError.ReadToEnd();
                    process.WaitForExit();
                    return process.ExitCode == 0 ? output : null;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }

        // ---- Threads ----------------------------------------------------------------------------

        [Test]
        public void EightThreadsShareOneClientAndOneToken()
        {
            const int threads = 8, callsPerThread = 25;
            var failures = new List<string>();
            using (IcdClient client = NewClient())
            using (var start = new ManualResetEventSlim(false))
            {
                client.SetCacheEntries(0); // every call reaches the stand-in
                var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
                {
                    start.Wait();
                    for (int i = 0; i < callsPerThread; i++)
                    {
                        try
                        {
                            string got, want;
                            switch ((t + i) % 4)
                            {
                                case 0: got = FirstCode(client.Search("cholera")); want = "1A00"; break;
                                case 1: got = At(client.CodeInfo("1F4Z"), "/code"); want = "1F4Z"; break;
                                case 2: got = Title(client.Get(CholeraUri)); want = "Cholera"; break;
                                default:
                                    // A failure on this thread must not leak into the others' errors.
                                    try
                                    {
                                        client.CodeInfo("ZZ99.9");
                                        got = "success";
                                    }
                                    catch (IcdException e)
                                    {
                                        got = e.Status + "/" + e.HttpStatus;
                                    }
                                    want = "Http/404";
                                    break;
                            }
                            if (got != want)
                            {
                                lock (failures) failures.Add(string.Format("thread {0} call {1}: {2} instead of {3}", t, i, got, want));
                            }
                        }
                        catch (Exception e)
                        {
                            lock (failures) failures.Add(string.Format("thread {0} call {1}: {2}", t, i, e));
                        }
                    }
                })).ToList();
                workers.ForEach(w => w.Start());
                start.Set();
                foreach (Thread w in workers)
                {
                    Assert.True(w.Join(60000), "a worker finished");
                }
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
            Assert.Equal(1.0, standIn.Stat("tokens_issued"), "tokens issued");
            Assert.Equal(1.0, standIn.Stat("token_requests"), "token requests");
            // Every call, plus the one list of releases the first 404 of a helper asks for (0.2).
            Assert.Equal((double)(threads * callsPerThread + 1), standIn.Stat("api_requests"), "API requests");
        }

        [Test]
        public void SettersRaceWithCalls()
        {
            var failures = new List<string>();
            using (IcdClient client = NewClient())
            {
                client.SetCacheEntries(0);
                var stop = new ManualResetEventSlim(false);
                var setter = new Thread(() =>
                {
                    for (int i = 0; !stop.IsSet; i++)
                    {
                        client.SetLanguage(i % 2 == 0 ? "fr" : "en");
                    }
                });
                setter.Start();
                var workers = Enumerable.Range(0, 4).Select(t => new Thread(() =>
                {
                    for (int i = 0; i < 10; i++)
                    {
                        string title = Title(client.Get(CholeraPath));
                        if (title != "Cholera" && title != "Choléra")
                        {
                            lock (failures) failures.Add("title " + title);
                        }
                    }
                })).ToList();
                workers.ForEach(w => w.Start());
                workers.ForEach(w => w.Join());
                stop.Set();
                setter.Join();
                stop.Dispose();
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
    }
}
