// Tests of the 0.2 additions of the C# binding — query parameters, IcdStatus.Api, EntityByCode,
// Icd10, options read back, the unserved-release message, IcdJson — and of the errors told in C#
// terms, against the local stand-in.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;

namespace IcdApi.Tests
{
    public sealed partial class IcdClientTests
    {
        // ---- Query parameters -------------------------------------------------------------------

        [Test]
        public void SearchParametersAreEncodedInOrderAndSeenByTheServer()
        {
            var parameters = new Dictionary<string, string>
            {
                ["highlightingEnabled"] = "false",
                ["chapterFilter"] = "01;02",
                ["a b&c/é"] = "x=y+z%~",
                ["empty"] = "",
            };
            using (IcdClient client = NewClient())
            {
                string json = client.Search("cholera", parameters);
                Assert.Equal("1A00", FirstCode(json), "first result");
                Assert.Equal("Cholera", At(json, "/destinationEntities/0/title"), "a plain title");
                Assert.Contains("<em class='found'>", At(client.Search("cholera"), "/destinationEntities/0/title"),
                    "without the parameter, the API's highlighting");
            }
            List<LoggedRequest> log = standIn.ApiLog();
            LoggedRequest request = log[0];
            Assert.Equal(SearchPath, request["path"], "path");
            Assert.Equal("/icd/release/11/2026-01/mms/search?q=cholera&highlightingEnabled=false&chapterFilter=01%3B02" +
                "&a%20b%26c%2F%C3%A9=x%3Dy%2Bz%25~&empty=", request["target"],
                "every byte outside RFC 3986's unreserved set percent-encoded, in order, after q");
            Assert.Equal("false", request.Query("highlightingEnabled"), "highlightingEnabled as the server read it");
            Assert.Equal("01;02", request.Query("chapterFilter"), "chapterFilter as the server read it");
            Assert.Equal("x=y+z%~", request.Query("a b&c/é"), "a name and value with reserved characters");
            Assert.Equal("", request.Query("empty"), "an empty value");
            Assert.Equal(1, request.QueryCount("q"), "q once");
        }

        [Test]
        public void ChapterFilterNarrowsTheSearch()
        {
            using (IcdClient client = NewClient())
            using (IcdJson all = IcdJson.Parse(client.Search("cholera", Params("highlightingEnabled", "false"))))
            using (IcdJson none = IcdJson.Parse(client.Search("cholera", Params("chapterFilter", "02"))))
            {
                Assert.True(all.Count("/destinationEntities") > 0, "hits without a filter");
                Assert.Equal(0, none.Count("/destinationEntities"), "hits in chapter 02 (neoplasms)");
            }
        }

        [Test]
        public void GetCodeInfoAndAutocodeTakeParameters()
        {
            using (IcdClient client = NewClient())
            {
                using (IcdJson entity = IcdJson.Parse(client.Get(CholeraPath + "?include=ancestor", Params("releaseId", "2024-01"))))
                {
                    Assert.Equal("Cholera", entity.String("/title"), "the entity");
                }
                Assert.Equal(CholeraPath + "?include=ancestor&releaseId=2024-01", standIn.LastApiRequest()["target"],
                    "added to the query the path holds");

                Assert.Equal("1A00", At(client.CodeInfo("1A00", Params("flexiblemode", "true")), "/code"), "codeinfo");
                Assert.Equal(MmsPath + "codeinfo/1A00?flexiblemode=true", standIn.LastApiRequest()["target"], "after the code");

                using (IcdJson coded = IcdJson.Parse(client.Autocode("cholera", Params("matchThreshold", "0.5"))))
                {
                    Assert.Equal("1A00", coded.String("/theCode"), "autocode");
                }
                LoggedRequest request = standIn.LastApiRequest();
                Assert.Equal(MmsPath + "autocode?searchText=cholera&matchThreshold=0.5", request["target"], "after searchText");

                // The server reads them: a threshold it refuses is its 400.
                IcdException e = Assert.Fails(IcdStatus.Http, () => client.Autocode("cholera", Params("matchThreshold", "high")), "matchThreshold=high");
                Assert.Equal(400, e.HttpStatus, "HTTP status");

                // No parameters at all: the plain request.
                Assert.Equal("Cholera", Title(client.Get(CholeraPath, new Dictionary<string, string>())), "an empty dictionary");
            }
        }

        [Test]
        public void OtherParametersAreAnotherCacheEntry()
        {
            using (IcdClient client = NewClient())
            {
                client.Search("cholera", Params("highlightingEnabled", "false"));
                client.Search("cholera", Params("highlightingEnabled", "false"));
                Assert.Equal(1, standIn.ApiLog().Count, "the same parameters: from the cache");
                client.Search("cholera", Params("highlightingEnabled", "true"));
                client.Search("cholera");
                Assert.Equal(3, standIn.ApiLog().Count, "other parameters: other entries");
            }
        }

        [Test]
        public void BadParametersAreRefusedBeforeAnythingIsSent()
        {
            using (IcdClient client = NewClient())
            {
                IcdException empty = Assert.Fails(IcdStatus.InvalidArgument, () => client.Search("cholera", Params("", "x")), "an empty name");
                Assert.Contains("empty name", empty.Message, "the message");
                Assert.Contains("nothing was sent", empty.Message, "the message");

                ArgumentException nullValue = Assert.Throws<ArgumentException>(() => client.Search("cholera", Params("flatResults", null)), "a null value");
                Assert.Equal("parameters", nullValue.ParamName, "ParamName");
                Assert.Contains("flatResults", nullValue.Message, "the message names the parameter");

                ArgumentException nul = Assert.Throws<ArgumentException>(() => client.Get(CholeraPath, Params("include", "ancestor\0")), "a NUL in a value");
                Assert.Contains("include", nul.Message, "the message names the parameter");
                Assert.Throws<ArgumentException>(() => client.CodeInfo("1A00", Params("x\ud800", "1")), "a lone surrogate in a name");
                Assert.Throws<ArgumentException>(() => client.Autocode("cholera", new NullKeyDictionary()), "a null name");
            }
            Assert.Equal(0.0, standIn.Stat("token_requests"), "token requests");
            Assert.Equal(0, standIn.ApiLog().Count, "API requests");
        }

        private static Dictionary<string, string> Params(string name, string value) =>
            new Dictionary<string, string> { [name] = value };

        /// <summary>An IDictionary that enumerates a null key, as no Dictionary can.</summary>
        private sealed class NullKeyDictionary : Dictionary<string, string>, IDictionary<string, string>
        {
            IEnumerator<KeyValuePair<string, string>> IEnumerable<KeyValuePair<string, string>>.GetEnumerator()
            {
                yield return new KeyValuePair<string, string>(null, "1");
            }
        }

        // ---- IcdStatus.Api ----------------------------------------------------------------------

        [Test]
        public void ASearchTheApiCouldNotRunIsStatusApiAndNeverCached()
        {
            using (IcdClient client = NewClient())
            {
                IcdException e = Assert.Fails(IcdStatus.Api, () => client.Search("%"), "a query of wildcards only");
                Assert.Equal(200, e.HttpStatus, "the 2xx status");
                Assert.Contains("The search text (q) is empty.", e.Message, "the API's errorMessage");
                Assert.Equal(8, (int)e.Status, "the C value");
                Assert.Fails(IcdStatus.Api, () => client.Search("%", Params("highlightingEnabled", "false")), "with parameters");
                Assert.Fails(IcdStatus.Api, () => client.Search("%"), "again");
                Assert.Equal(3, standIn.ApiLog().Count, "never from the cache");

                using (IcdJson raw = IcdJson.Parse(client.Get("/icd/release/11/2026-01/mms/search?q=%25")))
                {
                    Assert.Equal(true, raw.Bool("/error"), "Get returns it as it came");
                }

                standIn.Fault("{\"match\":\"/autocode\",\"kind\":\"json_error_200\",\"message\":\"autocoding is down\",\"count\":2}");
                IcdException auto = Assert.Fails(IcdStatus.Api, () => client.Autocode("cholera"), "autocode");
                Assert.Contains("autocoding is down", auto.Message, "errorMessage");
                Assert.Equal(200, auto.HttpStatus, "HTTP status");
                Assert.Fails(IcdStatus.Api, () => client.Autocode("cholera", Params("matchThreshold", "0.5")), "autocode with parameters");
                Assert.Equal("1A00", At(client.Autocode("cholera"), "/theCode"), "the fault spent, the answer");
            }
        }

        // ---- EntityByCode, Icd10 ----------------------------------------------------------------

        [Test]
        public void EntityByCodeFollowsTheStemId()
        {
            using (IcdClient client = NewClient())
            {
                using (IcdJson entity = IcdJson.Parse(client.EntityByCode("1A00")))
                {
                    Assert.Equal("Cholera", entity.String("/title"), "title");
                    Assert.Equal(CholeraUri, entity.String("/@id"), "@id");
                    Assert.Equal("1A00", entity.String("/code"), "code");
                }
                List<LoggedRequest> log = standIn.ApiLog();
                Assert.Equal(2, log.Count, "code info, then the entity");
                Assert.Equal(MmsPath + "codeinfo/1A00", log[0]["path"], "first request");
                Assert.Equal(CholeraPath, log[1]["path"], "second request: the stemId rewritten to the API");

                client.SetLanguage("fr");
                Assert.Equal("Choléra", Title(client.EntityByCode("1A00")), "in the client's language");

                // A postcoordinated code: the entity of its stem.
                Assert.Equal("Choléra", Title(client.EntityByCode("1A00&XS25/XT5R")), "a postcoordinated code: its stem");
                Assert.True(standIn.ApiLog().Any(r => r["target"] == MmsPath + "codeinfo/1A00%26XS25%2FXT5R"), "the whole code asked, encoded");

                IcdException unknown = Assert.Fails(IcdStatus.Http, () => client.EntityByCode("ZZ99.9"), "an unknown code");
                Assert.Equal(404, unknown.HttpStatus, "HTTP status");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.EntityByCode(""), "an empty code");
            }
        }

        [Test]
        public void Icd10CategoriesBlocksAndChapters()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Equal("2019", client.GetOption("icd10_release"), "the default ICD-10 release");
                using (IcdJson category = IcdJson.Parse(client.Icd10("A00.0")))
                {
                    Assert.Equal("category", category.String("/classKind"), "classKind of A00.0");
                    Assert.Equal("Cholera due to Vibrio cholerae 01, biovar cholerae", category.String("/title"), "title of A00.0");
                    Assert.Equal("http://id.who.int/icd/release/10/2019/A00", category.String("/parent/0"), "parent");
                }
                Assert.Equal("/icd/release/10/2019/A00.0", standIn.LastApiRequest()["path"], "path");
                using (IcdJson block = IcdJson.Parse(client.Icd10("A00-A09")))
                {
                    Assert.Equal("block", block.String("/classKind"), "classKind of A00-A09");
                    Assert.Equal("Intestinal infectious diseases", block.String("/title"), "title of the block");
                    Assert.True(block.Count("/child") >= 1, "children of the block");
                }
                using (IcdJson chapter = IcdJson.Parse(client.Icd10("I")))
                {
                    Assert.Equal("chapter", chapter.String("/classKind"), "classKind of I");
                    Assert.Equal("Certain infectious and parasitic diseases", chapter.String("/title"), "title of the chapter");
                    Assert.Equal(2, chapter.Count("/child"), "blocks of the chapter in the data set");
                }

                client.SetIcd10Release("2016");
                client.SetLanguage("fr");
                Assert.Equal("2016", client.GetOption("icd10_release"), "read back");
                Assert.Equal("Choléra", Title(client.Icd10("A00")), "French, release 2016");
                Assert.Equal("/icd/release/10/2016/A00", standIn.LastApiRequest()["path"], "the release in the path");

                IcdException unknown = Assert.Fails(IcdStatus.Http, () => client.Icd10("Z99.9"), "an unknown code");
                Assert.Equal(404, unknown.HttpStatus, "HTTP status");
                client.SetIcd10Release("1999");
                Assert.Equal(404, Assert.Fails(IcdStatus.Http, () => client.Icd10("A00"), "a release the API lacks").HttpStatus, "HTTP status");

                IcdException empty = Assert.Fails(IcdStatus.InvalidArgument, () => client.SetIcd10Release(""), "an empty release");
                Assert.Contains("SetIcd10Release(\"\")", empty.Message, "the message names the setter");
                Assert.DoesNotContain("icd10_release", empty.Message, "no native option name");
                Assert.Equal("1999", client.GetOption("icd10_release"), "unchanged");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Icd10(""), "an empty code");
            }
        }

        [Test]
        public void AReleaseTheApiDoesNotServeIsNamedWithThoseItServes()
        {
            standIn.Configure("{\"releases\":[\"2024-01\"]}");
            using (IcdClient client = NewClient())
            {
                Assert.Equal("2026-01", client.GetOption("release"), "the default release");
                IcdException e = Assert.Fails(IcdStatus.Http, () => client.CodeInfo("1A00"), "codeinfo in 2026-01");
                Assert.Equal(404, e.HttpStatus, "still a 404");
                Assert.Contains("release \"2026-01\" is not served by " + standIn.Url, e.Message, "what happened");
                Assert.Contains("(it serves 2024-01)", e.Message, "what it serves");
                Assert.Contains("SetRelease", e.Message, "what to do, in C# terms");
                Assert.DoesNotContain("release option", e.Message, "no native option");

                IcdException again = Assert.Fails(IcdStatus.Http, () => client.EntityByCode("1A00"), "EntityByCode in 2026-01");
                Assert.Contains("(it serves 2024-01)", again.Message, "EntityByCode's message");
                int lists = standIn.ApiLog().Count(r => r["path"] == "/icd/release/11/mms");
                Assert.Equal(1, lists, "the release list asked once");

                client.SetRelease("2024-01");
                Assert.Equal("2024-01", client.GetOption("release"), "read back");
                Assert.Equal("Cholera", Title(client.EntityByCode("1A00")), "the release it serves");
            }
        }

        [Test]
        public void OptionsReadBack()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Equal("mms", client.GetOption("linearization"), "linearization");
                Assert.Equal(standIn.Url, client.GetOption("api_base"), "api_base");
                client.SetTimeout(TimeSpan.FromSeconds(1.5));
                Assert.Equal("1500", client.GetOption("timeout_ms"), "timeout in milliseconds");
                client.SetTimeout(TimeSpan.FromTicks(2000));
                Assert.Equal("1", client.GetOption("timeout_ms"), "0.2 ms rounded up");
                client.SetLog(true);
                Assert.Equal("debug", client.GetOption("log"), "log");
                client.SetLog(false);
                client.SetCacheDirMaxBytes(1L << 30);
                Assert.Equal((1L << 30).ToString(CultureInfo.InvariantCulture), client.GetOption("cache_dir_max_bytes"), "a long");
                Assert.Equal("", client.GetOption("proxy"), "proxy not set");
                IcdException unknown = Assert.Fails(IcdStatus.InvalidArgument, () => client.GetOption("client_secret"), "the secret is no option");
                Assert.Contains("unknown option", unknown.Message, "message");
            }
        }

        // ---- Errors in C# terms -----------------------------------------------------------------

        [Test]
        public void SetterErrorsNameTheMemberAndTheValueAsGiven()
        {
            using (IcdClient client = NewClient())
            {
                // (the call, what the message must start with, the native name it must not hold)
                var cases = new List<Tuple<Action, string, string>>
                {
                    Tuple.Create<Action, string, string>(() => client.SetTimeout(TimeSpan.FromMilliseconds(-1000)), "SetTimeout(-00:00:01): ", "timeout_ms"),
                    Tuple.Create<Action, string, string>(() => client.SetTimeout(TimeSpan.Zero), "SetTimeout(00:00:00): ", "timeout_ms"),
                    Tuple.Create<Action, string, string>(() => client.SetTimeout(TimeSpan.FromDays(2)), "SetTimeout(2.00:00:00): ", "timeout_ms"),
                    Tuple.Create<Action, string, string>(() => client.SetMaxRetries(11), "SetMaxRetries(11): ", "max_retries"),
                    Tuple.Create<Action, string, string>(() => client.SetCacheEntries(-1), "SetCacheEntries(-1): ", "cache_entries"),
                    Tuple.Create<Action, string, string>(() => client.SetMaxResponseBytes(100), "SetMaxResponseBytes(100): ", "max_response_bytes"),
                    Tuple.Create<Action, string, string>(() => client.SetConcurrency(65), "SetConcurrency(65): ", "concurrency"),
                    Tuple.Create<Action, string, string>(() => client.SetAsyncThreads(257), "SetAsyncThreads(257): ", "async_threads"),
                    Tuple.Create<Action, string, string>(() => client.SetCacheDirMaxBytes(1000), "SetCacheDirMaxBytes(1000): ", "cache_dir_max_bytes"),
                    Tuple.Create<Action, string, string>(() => client.SetLanguage("en us"), "SetLanguage(\"en us\"): ", "option language"),
                    Tuple.Create<Action, string, string>(() => client.SetRelease("2026/01"), "SetRelease(\"2026/01\"): ", "option release"),
                    Tuple.Create<Action, string, string>(() => client.SetLinearization("foundation"), "SetLinearization(\"foundation\"): ", "linearization"),
                    Tuple.Create<Action, string, string>(() => client.SetApiVersion("v 2"), "SetApiVersion(\"v 2\"): ", "api_version"),
                    Tuple.Create<Action, string, string>(() => client.SetApiBase("ftp://example.com"), "SetApiBase(\"ftp://example.com\"): ", "api_base"),
                    Tuple.Create<Action, string, string>(() => client.SetApiBase("http://example.com"), "SetApiBase(\"http://example.com\"): ", "api_base"),
                    Tuple.Create<Action, string, string>(() => client.SetTokenEndpoint("not a url"), "SetTokenEndpoint(\"not a url\"): ", "token_endpoint"),
                    Tuple.Create<Action, string, string>(() => client.SetUserAgent("bad\nagent"), "SetUserAgent(\"bad\nagent\"): ", "user_agent"),
                    Tuple.Create<Action, string, string>(() => client.SetProxy("https://proxy.example:3128"), "SetProxy(\"https://proxy.example:3128\"): ", "option proxy"),
                    Tuple.Create<Action, string, string>(() => client.SetCaFile("/nonexistent/ca.pem"), "SetCaFile(\"/nonexistent/ca.pem\"): ", "ca_file"),
                    Tuple.Create<Action, string, string>(() => client.SetTokenCacheFile("/nonexistent/dir/token.json"), "SetTokenCacheFile(\"/nonexistent/dir/token.json\"): ", "token_cache_file"),
                    Tuple.Create<Action, string, string>(() => client.SetIcd10Release(" "), "SetIcd10Release(\" \"): ", "icd10_release"),
                };
                foreach (Tuple<Action, string, string> c in cases)
                {
                    IcdException e = Assert.Fails(IcdStatus.InvalidArgument, c.Item1, c.Item2);
                    Assert.True(e.Message.StartsWith(c.Item2, StringComparison.Ordinal), "the message starts with " + c.Item2 + ": " + e.Message);
                    Assert.True(e.Message.Length > c.Item2.Length + 10, "the message says why: " + e.Message);
                    Assert.DoesNotContain(c.Item3, e.Message, "no native option name in " + c.Item2);
                    Assert.Equal(0, e.HttpStatus, "no HTTP status");
                }
                IcdException timeout = Assert.Fails(IcdStatus.InvalidArgument, () => client.SetTimeout(TimeSpan.FromMilliseconds(-1000)), "a negative timeout");
                Assert.DoesNotContain("-1000", timeout.Message, "the value as the caller gave it, not in milliseconds");
                Assert.Contains("keeps its timeout of 00:00:30", timeout.Message, "what stays in force");
                Assert.Contains("expected a language tag such as", Assert.Fails(IcdStatus.InvalidArgument, () => client.SetLanguage("x y"), "x y").Message, "a plain word stays");
                Assert.Contains("the proxy tunnels", Assert.Fails(IcdStatus.InvalidArgument, () => client.SetProxy("https://p:1"), "https proxy").Message, "a plain word stays");
                Assert.Contains("from 0 to 10", Assert.Fails(IcdStatus.InvalidArgument, () => client.SetMaxRetries(-1), "-1").Message, "the range");
                Assert.Equal("30000", client.GetOption("timeout_ms"), "the timeout unchanged");

                // SetOption takes native names, and its messages use them.
                Assert.Contains("timeout_ms", Assert.Fails(IcdStatus.InvalidArgument, () => client.SetOption("timeout_ms", "-1"), "SetOption").Message, "native terms for native names");
            }
            standIn.Configure("{\"local\":true}");
            using (IcdClient local = IcdClient.Local(standIn.Url))
            {
                IcdException e = Assert.Fails(IcdStatus.InvalidArgument, () => local.SetTokenEndpoint(standIn.Url + "/connect/token"), "token endpoint of a local client");
                Assert.True(e.Message.StartsWith("SetTokenEndpoint(\"" + standIn.Url + "/connect/token\"): ", StringComparison.Ordinal), "the call: " + e.Message);
                Assert.Contains("applies only to a cloud client (IcdClient.Cloud)", e.Message, "message");
                Assert.DoesNotContain("icd_client_new", e.Message, "no C function");
            }
        }

        [Test]
        public void CallErrorsNameTheSetterToChange()
        {
            using (IcdClient client = NewClient())
            {
                client.SetCacheEntries(0);
                client.SetTimeout(TimeSpan.FromMilliseconds(400));
                standIn.Fault("{\"match\":\"/search\",\"kind\":\"hang\",\"seconds\":3}");
                IcdException timeout = Assert.Fails(IcdStatus.Timeout, () => client.Search("cholera"), "a hang");
                Assert.Contains("(SetTimeout: 400 ms)", timeout.Message, "the timeout that passed, by its setter");
                Assert.DoesNotContain("timeout_ms", timeout.Message, "no native option");

                client.SetTimeout(TimeSpan.FromSeconds(10));
                client.SetMaxResponseBytes(10000);
                standIn.Fault("{\"match\":\"/search\",\"kind\":\"large\",\"bytes\":20000}");
                IcdException large = Assert.Fails(IcdStatus.Network, () => client.Search("cholera"), "a body over the limit");
                Assert.Contains("SetMaxResponseBytes", large.Message, "the limit, by its setter");
                Assert.DoesNotContain("max_response_bytes", large.Message, "no native option");
            }
        }

        // ---- IcdJson ----------------------------------------------------------------------------

        [Test]
        public void IcdJsonReadsJsonLdTitlesAsTheirText()
        {
            using (IcdClient client = NewClient())
            using (IcdJson entity = IcdJson.Parse(client.Get(CholeraPath)))
            {
                Assert.Equal("Cholera", entity.String("/title"), "the @value of the title");
                Assert.Equal(IcdJsonType.Object, entity.Type("/title"), "the title is an object");
                Assert.Equal("en", entity.String("/title/@language"), "its language");
                Assert.Equal(2, entity.Count("/title"), "its members");
                Assert.Equal(IcdJsonType.Object, entity.Type(""), "the document itself");
                Assert.True(entity.Count("") > 5, "members of the entity: " + entity.Count(""));
            }
        }

        [Test]
        public void IcdJsonUnescapesNonAsciiStrings()
        {
            standIn.Configure("{\"escape_non_ascii\":true}");
            using (IcdClient client = NewClient())
            {
                foreach (KeyValuePair<string, string> title in new Dictionary<string, string> { ["fr"] = "Choléra", ["zh"] = "霍乱", ["ar"] = "الكُوليرا" })
                {
                    client.SetLanguage(title.Key);
                    string json = client.Get(CholeraPath);
                    Assert.Contains("\\u", json, "the stand-in escaped it (" + title.Key + ")");
                    Assert.DoesNotContain(title.Value, json, "no raw text (" + title.Key + ")");
                    Assert.Equal(title.Value, Title(json), "unescaped (" + title.Key + ")");
                }
            }
            const string text = "{\"smile\":\"\\ud83d\\ude00 caf\\u00e9 \\\"q\\\" \\\\ \\/ \\t\",\"raw\":\"naïve 東京 😀\",\"a/b\":1,\"m~n\":true,\"\":\"empty name\",\"nul\":\"a\\u0000b\"}";
            using (IcdJson doc = IcdJson.Parse(text))
            {
                Assert.Equal("😀 café \"q\" \\ / \t", doc.String("/smile"), "escapes and a surrogate pair");
                Assert.Equal("naïve 東京 😀", doc.String("/raw"), "UTF-8 in, UTF-8 out");
                Assert.Equal(1.0, doc.Number("/a~1b"), "~1 is /");
                Assert.Equal(true, doc.Bool("/m~0n"), "~0 is ~");
                Assert.Equal("empty name", doc.String("/"), "an empty member name");
                Assert.Equal(null, doc.String("/nul"), "a string holding U+0000 cannot be returned");
                Assert.Equal(IcdJsonType.String, doc.Type("/nul"), "... but it is there");
            }
            using (IcdJson pointerText = IcdJson.Parse("{\"é 東\":\"found\"}"))
            {
                Assert.Equal("found", pointerText.String("/é 東"), "a non-ASCII pointer, UTF-8 on the way in");
            }
        }

        [Test]
        public void IcdJsonMissingValuesAreNull()
        {
            using (IcdJson doc = IcdJson.Parse("{\"s\":\"x\",\"n\":0.75,\"i\":-12,\"t\":true,\"f\":false,\"z\":null,\"a\":[10,20,30],\"o\":{}}"))
            {
                Assert.Equal(0.75, doc.Number("/n"), "a number");
                Assert.Equal(-12.0, doc.Number("/i"), "an integer");
                Assert.Equal(true, doc.Bool("/t"), "true");
                Assert.Equal(false, doc.Bool("/f"), "false");
                Assert.Equal(3, doc.Count("/a"), "elements");
                Assert.Equal(20.0, doc.Number("/a/1"), "an element");
                Assert.Equal(0, doc.Count("/o"), "an empty object");
                Assert.Equal(8, doc.Count(""), "members");

                Assert.Equal(null, doc.String("/nope"), "a missing string");
                Assert.Equal(null, doc.Number("/nope"), "a missing number");
                Assert.Equal(null, doc.Bool("/nope"), "a missing boolean");
                Assert.Equal(0, doc.Count("/nope"), "a missing array");
                Assert.Equal(IcdJsonType.Missing, doc.Type("/nope"), "missing");
                Assert.Equal(null, doc.String("/n"), "a number is no string");
                Assert.Equal(null, doc.Number("/s"), "a string is no number");
                Assert.Equal(null, doc.Bool("/z"), "null is no boolean");
                Assert.Equal(IcdJsonType.Null, doc.Type("/z"), "null");
                Assert.Equal(0, doc.Count("/s"), "a string has no count");
                Assert.Equal(null, doc.Number("/a/3"), "past the end");
                Assert.Equal(null, doc.Number("/a/01"), "a leading zero names nothing");
                Assert.Equal(null, doc.Number("/a/-"), "- names nothing");
                Assert.Equal(null, doc.String("/s/0"), "inside a string");
            }
        }

        [Test]
        public void IcdJsonBadPointersAndBadJson()
        {
            using (IcdJson doc = IcdJson.Parse("{\"title\":\"x\"}"))
            {
                foreach (string bad in new[] { "title", "/title~2", "/~", "#/title" })
                {
                    Assert.Fails(IcdStatus.InvalidArgument, () => doc.String(bad), "String(" + bad + ")");
                    Assert.Fails(IcdStatus.InvalidArgument, () => doc.Count(bad), "Count(" + bad + ")");
                    Assert.Fails(IcdStatus.InvalidArgument, () => doc.Number(bad), "Number(" + bad + ")");
                    Assert.Fails(IcdStatus.InvalidArgument, () => doc.Bool(bad), "Bool(" + bad + ")");
                    Assert.Fails(IcdStatus.InvalidArgument, () => doc.Type(bad), "Type(" + bad + ")");
                }
                Assert.Contains("/", Assert.Fails(IcdStatus.InvalidArgument, () => doc.String("title"), "no slash").Message, "what a pointer is");
                Assert.Equal("x", doc.String("/title"), "a good read after bad ones");
                Assert.Throws<ArgumentException>(() => doc.String("/ti\0tle"), "a NUL in the pointer");
            }
            IcdException e = Assert.Fails(IcdStatus.Parse, () => IcdJson.Parse("{\"a\":\n  [1, 2"), "not JSON");
            Assert.Contains("line 2", e.Message, "the message says where");
            Assert.Fails(IcdStatus.Parse, () => IcdJson.Parse(""), "empty text");
            Assert.Fails(IcdStatus.Parse, () => IcdJson.Parse("<html></html>"), "HTML");
            Assert.Throws<ArgumentException>(() => IcdJson.Parse("{\"a\":\"\ud800\"}"), "a lone surrogate");
            using (IcdJson scalar = IcdJson.Parse("42"))
            {
                Assert.Equal(42.0, scalar.Number(""), "a scalar document");
            }
        }

        [Test]
        public void IcdJsonAfterDisposeThrowsObjectDisposedException()
        {
            IcdJson doc = IcdJson.Parse("{\"a\":[1],\"s\":\"x\"}");
            Assert.Equal("x", doc.String("/s"), "before");
            doc.Dispose();
            doc.Dispose(); // idempotent
            var reads = new Dictionary<string, Action>
            {
                ["String"] = () => doc.String("/s"),
                ["Count"] = () => doc.Count("/a"),
                ["Number"] = () => doc.Number("/a/0"),
                ["Bool"] = () => doc.Bool("/a"),
                ["Type"] = () => doc.Type("/a"),
            };
            foreach (KeyValuePair<string, Action> read in reads)
            {
                ObjectDisposedException e = Assert.Throws<ObjectDisposedException>(read.Value, read.Key);
                Assert.Equal("IcdJson", e.ObjectName, read.Key + ": ObjectName");
            }
        }

        [Test]
        public void IcdJsonIsReadByManyThreadsAndDisposedWhileRead()
        {
            const string json = "{\"hits\":[{\"code\":\"1A00\",\"title\":{\"@language\":\"fr\",\"@value\":\"Choléra\"},\"score\":0.5}," +
                                "{\"code\":\"1F40\",\"title\":{\"@language\":\"fr\",\"@value\":\"Paludisme\"},\"score\":1}]}";
            var failures = new List<string>();
            using (IcdJson doc = IcdJson.Parse(json))
            {
                var workers = Enumerable.Range(0, 8).Select(t => new Thread(() =>
                {
                    for (int i = 0; i < 2000; i++)
                    {
                        int hit = (t + i) % 2;
                        string title = doc.String("/hits/" + hit + "/title");
                        double? score = doc.Number("/hits/" + hit + "/score");
                        if (title != (hit == 0 ? "Choléra" : "Paludisme") || score != (hit == 0 ? 0.5 : 1.0) || doc.Count("/hits") != 2)
                        {
                            lock (failures) failures.Add("thread " + t + " read " + title + " " + score);
                        }
                    }
                })).ToList();
                workers.ForEach(w => w.Start());
                workers.ForEach(w => w.Join());
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));

            // Disposed while four threads read: each read answers or throws ObjectDisposedException.
            for (int round = 0; round < 20; round++)
            {
                IcdJson doc = IcdJson.Parse(json);
                int answered = 0;
                var readers = Enumerable.Range(0, 4).Select(t => new Thread(() =>
                {
                    try
                    {
                        while (true)
                        {
                            if (doc.String("/hits/1/title") != "Paludisme")
                            {
                                lock (failures) failures.Add("a wrong read while disposing");
                            }
                            Interlocked.Increment(ref answered);
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        // the end
                    }
                    catch (Exception e)
                    {
                        lock (failures) failures.Add(e.ToString());
                    }
                })).ToList();
                readers.ForEach(r => r.Start());
                while (Volatile.Read(ref answered) < 100)
                {
                    Thread.Yield();
                }
                doc.Dispose();
                foreach (Thread r in readers)
                {
                    Assert.True(r.Join(10000), "a reader stopped after Dispose");
                }
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
        }

        [Test]
        public void IcdJsonReadsASearchAnswer()
        {
            using (IcdClient client = NewClient())
            using (IcdJson found = IcdJson.Parse(client.Search("malaria", Params("highlightingEnabled", "false"))))
            {
                int hits = found.Count("/destinationEntities");
                Assert.True(hits >= 2, "hits: " + hits);
                for (int i = 0; i < hits; i++)
                {
                    string at = "/destinationEntities/" + i;
                    Assert.True(found.String(at + "/theCode").StartsWith("1F4", StringComparison.Ordinal), "a malaria code: " + found.String(at + "/theCode"));
                    Assert.DoesNotContain("<em", found.String(at + "/title"), "a plain title");
                    double? score = found.Number(at + "/score");
                    Assert.True(score > 0 && score <= 1, "a score: " + score);
                    Assert.True(found.Bool(at + "/isLeaf").HasValue, "isLeaf is a boolean");
                }
                Assert.Equal(false, found.Bool("/error"), "error");
                Assert.Equal(IcdJsonType.Null, found.Type("/errorMessage"), "errorMessage");
            }
        }
    }
}
