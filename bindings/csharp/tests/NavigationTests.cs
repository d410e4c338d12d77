// Tests of the 0.3 navigation of the C# binding — Describe, Releases, release "latest", Parents,
// Children, Ancestors, and WHO's mapping tables (synthetic, in WHO's layout) — against the stand-in.

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace IcdApi.Tests
{
    public sealed partial class IcdClientTests
    {
        private const string Mms = "http://id.who.int/icd/release/11/2026-01/mms";

        [Test]
        public void DescribeTakesCodesUrisAndParameters()
        {
            using (IcdClient client = NewClient())
            {
                Assert.Equal("Cholera", At(client.Describe("1A00"), "/label"), "label");
                string combined = client.Describe("1A00&XN8P1", new Dictionary<string, string> { ["flexiblemode"] = "true" });
                Assert.Equal("1A00", At(combined, "/stemCode"), "stem of a combination");
                Assert.Equal("1A00&XN8P1", StandIn.Query(standIn.LastApiRequest(), "code"), "code sent");
                Assert.Equal("true", StandIn.Query(standIn.LastApiRequest(), "flexiblemode"), "parameter sent");
                Assert.Equal("1A0Y", At(client.Describe(Mms + "/135352227/other"), "/code"), "by URI");
                Assert.Equal(Mms + "/135352227/other", StandIn.Query(standIn.LastApiRequest(), "uri"), "uri sent");
                client.SetLanguage("fr");
                Assert.Equal("Choléra", At(client.Describe("1A00"), "/label"), "in French");
                IcdException unknown = Assert.Fails(IcdStatus.Http, () => client.Describe("ZZ99"), "unknown code");
                Assert.Equal(404, unknown.HttpStatus, "404");
                Assert.Throws<ArgumentNullException>(() => client.Describe(null), "null");
            }
        }

        [Test]
        public void ReleasesAndTheLatestRelease()
        {
            standIn.Configure("{\"releases\": [\"2024-01\", \"2023-01\"]}");
            using (IcdClient client = NewClient())
            {
                Assert.Equal("http://id.who.int/icd/release/11/2024-01/mms", At(client.Releases(), "/latestRelease"), "latestRelease");
                client.SetRelease("latest");
                Assert.Equal("latest", client.GetOption("release"), "read back");
                Assert.Equal("1A00", At(client.CodeInfo("1A00"), "/code"), "codeinfo");
                Assert.Equal("/icd/release/11/2024-01/mms/codeinfo/1A00", standIn.LastApiRequest()["path"], "the newest release");
                IcdException unknown = Assert.Fails(IcdStatus.Http, () => client.CodeInfo("ZZ99"), "unknown code");
                Assert.Contains("release \"latest\" is 2024-01", unknown.Message, "the release used");
            }
        }

        [Test]
        public void ParentsChildrenAndAncestorsWithTitles()
        {
            using (IcdClient client = NewClient())
            {
                string parents = client.Parents("1A00");
                Assert.Equal(Mms + "/135352227", At(parents, "/0/uri"), "parent");
                Assert.Equal("Bacterial intestinal infections", At(parents, "/0/title"), "title");
                Assert.Equal("block", At(parents, "/0/classKind"), "classKind");
                string ancestors = client.Ancestors("1A00&XN8P1");
                using (IcdJson doc = IcdJson.Parse(ancestors))
                {
                    Assert.Equal(3, doc.Count(""), "three levels");
                    Assert.Equal("01", doc.String("/2/code"), "the chapter last");
                }
                using (IcdJson doc = IcdJson.Parse(client.Ancestors("FB32.5")))
                {
                    Assert.Equal(4, doc.Count(""), "each ancestor once in a diamond");
                    Assert.Equal(Mms + "/588616678", doc.String("/2/uri"), "at its nearest level");
                }
                using (IcdJson doc = IcdJson.Parse(client.Children(Mms + "/1439886552")))
                {
                    Assert.Equal(7, doc.Count(""), "children");
                    Assert.Equal("1F40", doc.String("/0/code"), "in the API's order");
                }
                Assert.Equal("[]", client.Children("1A00"), "a leaf");
                client.SetLanguage("fr");
                Assert.Equal("Infections intestinales bactériennes", At(client.Parents("1A00"), "/0/title"), "in French");
                Assert.Equal(404, Assert.Fails(IcdStatus.Http, () => client.Ancestors("ZZ99"), "unknown").HttpStatus, "404");
                Assert.Throws<ArgumentNullException>(() => client.Children(null), "null");
            }
        }

        [Test]
        public void MappingTablesFromADirectory()
        {
            string directory = Path.Combine(Path.GetTempPath(), "icdapi-cs-maps-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            try
            {
                string date = "\t2026-Jan-17\r\n";
                string tenToEleven = "\uFEFF10ClassKind\t10DepthInKind\ticd10Code\ticd10Chapter\ticd10Title\t11ClassKind\t11DepthInKind\t" +
                    "ICD-11 FoundationURI\tLinearization (releaseURI)\ticd11Code\ticd11Chapter\ticd11Title" + date;
                Func<string, string, string> row = (code11, title11) =>
                    "category\t1\tA00.0\tI\tCholera due to Vibrio cholerae\tcategory\t1\thttp://id.who.int/icd/entity/257068234\t" +
                    Mms + "/257068234\t" + code11 + "\t01\t" + title11 + "\r\n";
                var utf8 = new UTF8Encoding(false);
                File.WriteAllText(Path.Combine(directory, "10To11MapToOneCategory.txt"), tenToEleven + row("1A00", "Cholera"), utf8);
                File.WriteAllText(Path.Combine(directory, "10To11MapToMultipleCategories.txt"), tenToEleven + row("1A00&XN8P1", "Choléra"), utf8);
                File.WriteAllText(Path.Combine(directory, "11To10MapToOneCategory.txt"),
                    "\uFEFFLinearization (release) URI\ticd11Code\ticd11Chapter\ticd11Title\ticd10Code\ticd10Chapter\ticd10Title" + date +
                    Mms + "/257068234\t1A00\t01\tCholera\tA00\tI\tCholera\r\n", utf8);
                using (IcdClient client = IcdClient.Local("http://127.0.0.1:9"))
                {
                    IcdException unset = Assert.Fails(IcdStatus.InvalidArgument, () => client.MapIcd10ToIcd11("A00.0"), "no tables");
                    Assert.Contains("icdcdn.who.int/static/releasefiles", unset.Message, "where WHO publishes them");
                    client.SetMappingTables(directory);
                    Assert.Equal(directory, client.GetOption("mapping_tables"), "read back");
                    string mapped = client.MapIcd10ToIcd11(" a00.0 ");
                    using (IcdJson doc = IcdJson.Parse(mapped))
                    {
                        Assert.Equal(2, doc.Count(""), "two rows");
                        Assert.Equal("one", doc.String("/0/table"), "table one");
                        Assert.Equal("1A00", doc.String("/0/icd11Code"), "target");
                        Assert.Equal("multiple", doc.String("/1/table"), "table multiple");
                        Assert.Equal("Choléra", doc.String("/1/icd11Title"), "UTF-8 title");
                    }
                    Assert.Equal("A00", At(client.MapIcd11ToIcd10("1a00"), "/0/icd10Code"), "back to ICD-10");
                    Assert.Equal("[]", client.MapIcd11ToIcd10("ZZ99"), "unknown");
                    File.Delete(Path.Combine(directory, "11To10MapToOneCategory.txt"));
                    client.SetMappingTables(Path.Combine(directory, "nowhere"));
                    IcdException missing = Assert.Fails(IcdStatus.Parse, () => client.MapIcd11ToIcd10("1A00"), "missing path");
                    Assert.Contains("nowhere", missing.Message, "names the path");
                    Assert.Throws<ArgumentNullException>(() => client.SetMappingTables(null), "null path");
                }
            }
            finally
            {
                Directory.Delete(directory, true);
            }
        }
    }
}
