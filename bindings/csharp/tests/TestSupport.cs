// Test support for the C# binding: a tiny test runner (no NUnit here), assertions, and the local
// ICD API stand-in (tools/standin/icd_standin.py) run as a child process with its admin endpoints.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Reflection;
using System.Text;
using System.Threading;

namespace IcdApi.Tests
{
    /// <summary>Marks a test method: public, instance, no parameters.</summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class TestAttribute : Attribute
    {
    }

    internal sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message)
        {
        }
    }

    internal static class Assert
    {
        public static void True(bool condition, string what)
        {
            if (!condition)
            {
                throw new AssertionException(what);
            }
        }

        public static void Equal<T>(T expected, T actual, string what)
        {
            if (!EqualityComparer<T>.Default.Equals(expected, actual))
            {
                throw new AssertionException(string.Format("{0}: expected <{1}>, got <{2}>", what, expected, actual));
            }
        }

        public static void Contains(string needle, string haystack, string what)
        {
            if (haystack == null || haystack.IndexOf(needle, StringComparison.Ordinal) < 0)
            {
                throw new AssertionException(string.Format("{0}: <{1}> not found in <{2}>", what, needle, haystack));
            }
        }

        public static void DoesNotContain(string needle, string haystack, string what)
        {
            if (haystack != null && haystack.IndexOf(needle, StringComparison.Ordinal) >= 0)
            {
                throw new AssertionException(string.Format("{0}: <{1}> found in <{2}>", what, needle, haystack));
            }
        }

        /// <summary>Runs the action and returns the exception of exactly type T it throws.</summary>
        public static T Throws<T>(Action action, string what) where T : Exception
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                if (e.GetType() == typeof(T))
                {
                    return (T)e;
                }
                throw new AssertionException(string.Format("{0}: expected {1}, got {2}: {3}", what, typeof(T).Name, e.GetType().Name, e.Message));
            }
            throw new AssertionException(string.Format("{0}: expected {1}, nothing was thrown", what, typeof(T).Name));
        }

        /// <summary>Expects an IcdException of the given status and returns it.</summary>
        public static IcdException Fails(IcdStatus status, Action action, string what)
        {
            IcdException e = Throws<IcdException>(action, what);
            Equal(status, e.Status, what + " (status; message: " + e.Message + ")");
            True(!string.IsNullOrEmpty(e.Message), what + ": the exception has no message");
            return e;
        }
    }

    /// <summary>Runs every [Test] method of a class in declaration order, one instance per test.</summary>
    internal static class Runner
    {
        public static int Run<T>(Func<T> create, Action beforeEach, string filter)
        {
            IEnumerable<MethodInfo> tests = typeof(T).GetMethods(BindingFlags.Public | BindingFlags.Instance)
                .Where(m => m.GetCustomAttributes(typeof(TestAttribute), false).Length > 0)
                .OrderBy(m => m.MetadataToken);
            int passed = 0, failed = 0;
            foreach (MethodInfo test in tests)
            {
                if (filter != null && test.Name.IndexOf(filter, StringComparison.OrdinalIgnoreCase) < 0)
                {
                    continue;
                }
                var clock = Stopwatch.StartNew();
                try
                {
                    beforeEach();
                    test.Invoke(create(), null);
                    passed++;
                    Console.WriteLine("ok   {0} ({1} ms)", test.Name, clock.ElapsedMilliseconds);
                }
                catch (Exception e)
                {
                    Exception cause = e is TargetInvocationException && e.InnerException != null ? e.InnerException : e;
                    failed++;
                    Console.WriteLine("FAIL {0} ({1} ms): {2}", test.Name, clock.ElapsedMilliseconds,
                        cause is AssertionException ? cause.Message : cause.ToString());
                }
            }
            Console.WriteLine("{0} passed, {1} failed", passed, failed);
            return failed == 0 && passed > 0 ? 0 : 1;
        }
    }

    /// <summary>The stand-in ICD API as a child process, and its admin endpoints.</summary>
    internal sealed class StandIn : IDisposable
    {
        private readonly Process process;

        private StandIn(Process process, string url)
        {
            this.process = process;
            Url = url;
        }

        /// <summary>http://127.0.0.1:PORT, without a trailing slash.</summary>
        public string Url { get; }

        public static StandIn Start(string script)
        {
            if (string.IsNullOrEmpty(script) || !File.Exists(script))
            {
                throw new InvalidOperationException("ICDAPI_STANDIN must name tools/standin/icd_standin.py; got <" + script + ">");
            }
            var info = new ProcessStartInfo("python3", "\"" + script + "\" --port 0 --quiet")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
            };
            Process process = Process.Start(info);
            string line = null;
            var reader = new Thread(() => line = process.StandardOutput.ReadLine()) { IsBackground = true };
            reader.Start();
            if (!reader.Join(TimeSpan.FromSeconds(20)) || line == null || !line.StartsWith("LISTENING ", StringComparison.Ordinal))
            {
                Kill(process);
                throw new InvalidOperationException("the stand-in did not say LISTENING; its first line: <" + line + ">");
            }
            // Keep draining stdout so that the child never blocks on a full pipe.
            new Thread(() => process.StandardOutput.ReadToEnd()) { IsBackground = true }.Start();
            return new StandIn(process, line.Substring("LISTENING ".Length).Trim().TrimEnd('/'));
        }

        public void Dispose()
        {
            Kill(process);
        }

        private static void Kill(Process process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // it has exited meanwhile
            }
            process.Dispose();
        }

        private static int tests;

        /// <summary>
        /// The client id the stand-in accepts in the current test (the secret stays
        /// "standin-secret"). Each test gets its own: clients of one process with the same
        /// credentials share their token, so without it a token fetched by one test would serve
        /// the next, and no test could count the tokens it causes.
        /// </summary>
        public string ClientId { get; private set; } = "standin-client";

        /// <summary>Before each test: new credentials, then <see cref="Reset"/>.</summary>
        public void NewTest()
        {
            ClientId = "standin-client-" + Interlocked.Increment(ref tests);
            Reset();
        }

        /// <summary>Clears log, stats, faults, revocations and configuration; the stand-in then
        /// accepts <see cref="ClientId"/>.</summary>
        public void Reset()
        {
            Admin("POST", "/_admin/reset", "");
            Configure("{\"client_id\":\"" + ClientId + "\"}");
        }

        public void Fault(string json) => Admin("POST", "/_admin/fault", json);

        public void Configure(string json) => Admin("POST", "/_admin/config", json);

        public void Revoke() => Admin("POST", "/_admin/revoke", "");

        public double Stat(string name)
        {
            using (IcdJson stats = IcdJson.Parse(Admin("GET", "/_admin/stats", null)))
            {
                double? value = stats.Number("/" + name);
                Assert.True(value.HasValue, "the stand-in has no stat " + name);
                return value.Value;
            }
        }

        /// <summary>The logged requests to the API (/icd/...), oldest first.</summary>
        public List<LoggedRequest> ApiLog()
        {
            IcdJson log = IcdJson.Parse(Admin("GET", "/_admin/log", null));
            int count = log.Count("/requests");
            return Enumerable.Range(0, count)
                .Select(i => new LoggedRequest(log, "/requests/" + i))
                .Where(r => r["path"].StartsWith("/icd", StringComparison.Ordinal))
                .ToList();
        }

        /// <summary>The last logged API request; fails if there is none.</summary>
        public LoggedRequest LastApiRequest()
        {
            List<LoggedRequest> log = ApiLog();
            Assert.True(log.Count > 0, "the stand-in logged no API request");
            return log[log.Count - 1];
        }

        public static string Header(LoggedRequest request, string name) => request.Header(name);

        /// <summary>The first value of a query parameter of a logged request.</summary>
        public static string Query(LoggedRequest request, string name) => request.Query(name);

        private string Admin(string method, string path, string body)
        {
            var request = (HttpWebRequest)WebRequest.Create(Url + path);
            request.Method = method;
            request.Proxy = null; // never through a proxy from the environment
            request.Timeout = 15000;
            if (body != null && method == "POST")
            {
                byte[] bytes = Encoding.UTF8.GetBytes(body);
                request.ContentType = "application/json";
                request.ContentLength = bytes.Length;
                using (Stream stream = request.GetRequestStream())
                {
                    stream.Write(bytes, 0, bytes.Length);
                }
            }
            try
            {
                using (var response = (HttpWebResponse)request.GetResponse())
                using (var reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
                {
                    return reader.ReadToEnd();
                }
            }
            catch (WebException e) when (e.Response != null)
            {
                using (var reader = new StreamReader(e.Response.GetResponseStream(), Encoding.UTF8))
                {
                    throw new InvalidOperationException("stand-in admin " + method + " " + path + ": " + reader.ReadToEnd());
                }
            }
        }
    }
}

namespace IcdApi.Tests
{
    /// <summary>One request of the stand-in's log, read from the log's JSON document (which the
    /// requests of one log share, and the finalizer frees).</summary>
    internal sealed class LoggedRequest
    {
        private readonly IcdJson log;
        private readonly string at;

        public LoggedRequest(IcdJson log, string at)
        {
            this.log = log;
            this.at = at;
        }

        /// <summary>A string member of the entry: method, target (raw), path (decoded), body.</summary>
        public string this[string member] => log.String(at + "/" + Escape(member));

        /// <summary>A request header (lower-case name), or null.</summary>
        public string Header(string name) => log.String(at + "/headers/" + Escape(name));

        /// <summary>The first value of a query parameter, or null.</summary>
        public string Query(string name) => log.String(at + "/query/" + Escape(name) + "/0");

        /// <summary>How many times the query holds the parameter.</summary>
        public int QueryCount(string name) => log.Count(at + "/query/" + Escape(name));

        /// <summary>A member name as a JSON Pointer segment (RFC 6901: ~ as ~0, / as ~1).</summary>
        public static string Escape(string name) => name.Replace("~", "~0").Replace("/", "~1");
    }
}
