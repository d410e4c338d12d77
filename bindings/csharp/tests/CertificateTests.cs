// Tests of the death certificate calls of the C# binding (0.3): Doris and CodEdit against the local
// stand-in, whose rule is NOT WHO's DORIS (tools/standin/README.md: the lowest used line of Part 1
// gives the underlying cause). What is tested is the binding: fields sent, checked, answers read.

using System;
using System.Collections.Generic;

namespace IcdApi.Tests
{
    public sealed partial class IcdClientTests
    {
        [Test]
        public void DorisSendsTheCertificateAndReturnsTheUnderlyingCause()
        {
            var certificate = new Dictionary<string, string>
            {
                ["causeOfDeathCodeA"] = "1A00",
                ["causeOfDeathCodeC"] = "1F40,1A01",
                ["sex"] = "2",
                ["mannerOfDeathDescriptionExternalCause"] = "fell & hit é",
            };
            using (IcdClient client = NewClient())
            using (IcdJson answer = IcdJson.Parse(client.Doris(certificate)))
            {
                Assert.Equal("1F40", answer.String("/code"), "the lowest used line's first code");
                Assert.Equal("1F40", answer.String("/stemCode"), "its stem");
                Assert.Equal(false, answer.Bool("/reject"), "not rejected");
            }
            LoggedRequest request = standIn.LastApiRequest();
            Assert.Equal("/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00&causeOfDeathCodeC=1F40%2C1A01&sex=2" +
                "&mannerOfDeathDescriptionExternalCause=fell%20%26%20hit%20%C3%A9", request["target"], "the query");
            Assert.Equal("fell & hit é", request.Query("mannerOfDeathDescriptionExternalCause"), "as the server read it");
        }

        [Test]
        public void ARejectedCertificateIsAnAnswerAndCodEditChecks()
        {
            using (IcdClient client = NewClient())
            {
                using (IcdJson rejected = IcdJson.Parse(client.Doris(new Dictionary<string, string> { ["causeOfDeathCodePart2"] = "1A00" })))
                {
                    Assert.Equal(true, rejected.Bool("/reject"), "rejected, no exception");
                    Assert.Contains("No cause of death in Part 1", rejected.String("/error"), "why");
                    Assert.Equal(null, rejected.String("/code"), "no code");
                }
                var odd = new Dictionary<string, string> { ["causeOfDeathCodeA"] = "ZZ99", ["sex"] = "1", ["maternalDeathWasPregnant"] = "1" };
                using (IcdJson check = IcdJson.Parse(client.CodEdit(odd)))
                {
                    Assert.Equal("U1,C0,S1", check.String("/issueIds"), "the stand-in's issues");
                }
                Assert.Equal("/icd/release/11/2026-01/codedit", standIn.LastApiRequest()["path"], "CodEdit's path");
                IcdException bad = Assert.Fails(IcdStatus.Http,
                    () => client.Doris(new Dictionary<string, string> { ["causeOfDeathCodeA"] = "1A00", ["sex"] = "male" }), "400");
                Assert.Equal(400, bad.HttpStatus, "the HTTP status");
            }
        }

        [Test]
        public void BadCertificatesAreRefusedBeforeAnythingIsSent()
        {
            using (IcdClient client = NewClient())
            {
                IcdException misspelt = Assert.Fails(IcdStatus.InvalidArgument,
                    () => client.Doris(new Dictionary<string, string> { ["causeOfDeathCodeA1"] = "1A00" }), "a misspelt field");
                Assert.Contains("did you mean causeOfDeathCodeA?", misspelt.Message, "the closest field");
                Assert.Contains("nothing was sent", misspelt.Message, "the message");
                IcdException noCause = Assert.Fails(IcdStatus.InvalidArgument,
                    () => client.CodEdit(new Dictionary<string, string> { ["sex"] = "1" }), "no cause");
                Assert.Contains("no cause of death", noCause.Message, "the message");
                Assert.Fails(IcdStatus.InvalidArgument, () => client.Doris(new Dictionary<string, string>()), "an empty certificate");
                ArgumentException nullValue = Assert.Throws<ArgumentException>(
                    () => client.Doris(new Dictionary<string, string> { ["causeOfDeathCodeA"] = null }), "a null value");
                Assert.Equal("certificate", nullValue.ParamName, "ParamName");
                Assert.Throws<ArgumentNullException>(() => client.CodEdit(null), "a null certificate");
            }
            Assert.Equal(0, standIn.ApiLog().Count, "API requests");
        }
    }
}
