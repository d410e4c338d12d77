// The ...Async methods: Task<string> over icd_start, cancelled through CancellationToken.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace IcdApi.Tests
{
    public sealed partial class IcdClientTests
    {
        private static readonly TimeSpan AsyncWait = TimeSpan.FromSeconds(20);

        /// <summary>The task's outcome, waiting at most <see cref="AsyncWait"/> (a test may wait).</summary>
        private static T Finished<T>(Task<T> task, string what)
        {
            Assert.True(((IAsyncResult)task).AsyncWaitHandle.WaitOne(AsyncWait), what + ": the task did not end within 20 s");
            return task.Status == TaskStatus.RanToCompletion ? task.Result : default(T);
        }

        private static IcdException Faulted<T>(Task<T> task, IcdStatus status, string what)
        {
            Finished(task, what);
            Assert.Equal(TaskStatus.Faulted, task.Status, what + ": task status");
            var error = task.Exception.InnerException as IcdException;
            Assert.True(error != null, what + ": an IcdException, got " + task.Exception.InnerException);
            Assert.Equal(status, error.Status, what + " (message: " + error.Message + ")");
            return error;
        }

        [Test]
        public void AsyncCallsReturnWhatTheSynchronousOnesReturn()
        {
            using (IcdClient client = NewClient())
            {
                var flat = new Dictionary<string, string> { ["flatResults"] = "true" };
                var certificate = new Dictionary<string, string> { ["causeOfDeathCodeA"] = "1A00", ["sex"] = "1" };
                var pairs = new List<KeyValuePair<Task<string>, Func<string>>>
                {
                    new KeyValuePair<Task<string>, Func<string>>(client.GetAsync(CholeraPath), () => client.Get(CholeraPath)),
                    new KeyValuePair<Task<string>, Func<string>>(client.GetAsync(CholeraPath, new Dictionary<string, string> { ["include"] = "ancestor" }),
                        () => client.Get(CholeraPath, new Dictionary<string, string> { ["include"] = "ancestor" })),
                    new KeyValuePair<Task<string>, Func<string>>(client.SearchAsync("cholera"), () => client.Search("cholera")),
                    new KeyValuePair<Task<string>, Func<string>>(client.SearchAsync("cholera", flat), () => client.Search("cholera", flat)),
                    new KeyValuePair<Task<string>, Func<string>>(client.AutocodeAsync("cholera"), () => client.Autocode("cholera")),
                    new KeyValuePair<Task<string>, Func<string>>(client.AutocodeAsync("cholera", new Dictionary<string, string>()), () => client.Autocode("cholera")),
                    new KeyValuePair<Task<string>, Func<string>>(client.CodeInfoAsync("1A00"), () => client.CodeInfo("1A00")),
                    new KeyValuePair<Task<string>, Func<string>>(client.CodeInfoAsync("1A00", new Dictionary<string, string> { ["flexiblemode"] = "true" }),
                        () => client.CodeInfo("1A00", new Dictionary<string, string> { ["flexiblemode"] = "true" })),
                    new KeyValuePair<Task<string>, Func<string>>(client.EntityByCodeAsync("1A00"), () => client.EntityByCode("1A00")),
                    new KeyValuePair<Task<string>, Func<string>>(client.DorisAsync(certificate), () => client.Doris(certificate)),
                };
                int i = 0;
                foreach (var pair in pairs)
                {
                    string got = Finished(pair.Key, "call " + i);
                    Assert.Equal(TaskStatus.RanToCompletion, pair.Key.Status, "call " + i);
                    Assert.Equal(pair.Value(), got, "call " + i + " gives the synchronous call's answer");
                    i++;
                }
                Assert.True(standIn.ApiLog().Any(r => r["path"].EndsWith("/search") && r.Query("flatResults") == "true"),
                    "parameters reach the API");
            }
        }

        [Test]
        public void AsyncFailuresFaultTheTaskAndBadArgumentsThrowAtOnce()
        {
            using (IcdClient client = NewClient())
            {
                IcdException missing = Faulted(client.CodeInfoAsync("NOPE"), IcdStatus.Http, "unknown code");
                Assert.Equal(404, missing.HttpStatus, "HTTP status");
                Assert.Contains("404", missing.Message, "message");
                Faulted(client.SearchAsync(""), IcdStatus.InvalidArgument, "an empty query (checked by icd_start)");
                Faulted(client.GetAsync("https://example.org/x"), IcdStatus.InvalidArgument, "another host");
                Assert.Throws<ArgumentNullException>(() => client.GetAsync(null), "null path");
                Assert.Throws<ArgumentNullException>(() => client.SearchAsync("x", null), "null parameters");
                Assert.Throws<ArgumentNullException>(() => client.DorisAsync(null), "null certificate");
                IcdException doris = Faulted(client.DorisAsync(new Dictionary<string, string> { ["causeOfDeathCodeA1"] = "1A00" }),
                    IcdStatus.InvalidArgument, "a misspelt certificate field (checked by icd_start)");
                Assert.Contains("did you mean causeOfDeathCodeA?", doris.Message, "the closest field is named");
            }
            IcdClient disposed = NewClient();
            disposed.Dispose();
            Assert.Throws<ObjectDisposedException>(() => disposed.GetAsync(CholeraPath), "after Dispose");
        }

        [Test]
        public void AsyncContinuationsRunOnThePoolNotOnTheLibrarysThread()
        {
            using (IcdClient client = NewClient())
            {
                // ExecuteSynchronously would run the continuation on the thread that completes the
                // task: RunContinuationsAsynchronously sends it to the .NET thread pool instead.
                Task<string> onPool = client.CodeInfoAsync("1A00").ContinueWith(
                    t => Thread.CurrentThread.IsThreadPoolThread + " " + t.Status, TaskContinuationOptions.ExecuteSynchronously);
                Assert.Equal("True RanToCompletion", Finished(onPool, "continuation"), "the continuation ran on a .NET thread-pool thread");
            }
        }

        [Test]
        public void CancellationTokenCancelsTheNativeCallAtOnce()
        {
            using (IcdClient client = NewClient())
            {
                client.CodeInfo("1A00"); // the token first
                standIn.Fault("{\"match\":\"/codeinfo/1A01\",\"kind\":\"hang\",\"seconds\":10}");
                using (var source = new CancellationTokenSource())
                {
                    Task<string> task = client.CodeInfoAsync("1A01", source.Token);
                    Thread.Sleep(300);
                    Assert.True(!task.IsCompleted, "the call hangs at the server");
                    var clock = Stopwatch.StartNew();
                    source.Cancel();
                    Finished(task, "cancelled");
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), "ended in " + clock.Elapsed);
                    Assert.Equal(TaskStatus.Canceled, task.Status, "task status");
                    Assert.Throws<TaskCanceledException>(() => task.GetAwaiter().GetResult(), "awaiting it");
                }
                using (var source = new CancellationTokenSource())
                {
                    source.Cancel();
                    int before = standIn.ApiLog().Count;
                    Task<string> task = client.SearchAsync("cholera", source.Token);
                    Assert.Equal(TaskStatus.Canceled, task.Status, "an already cancelled token: cancelled at once");
                    Assert.Equal(before, standIn.ApiLog().Count, "and nothing sent");
                }
                // A token that is never cancelled changes nothing.
                using (var source = new CancellationTokenSource())
                {
                    Assert.Contains("1A00", Finished(client.CodeInfoAsync("1A00", source.Token), "with a token"), "answer");
                }
            }
        }

        [Test]
        public void DisposeCancelsTheCallsInFlight()
        {
            IcdClient client = NewClient();
            client.CodeInfo("1A00");
            standIn.Fault("{\"match\":\"/codeinfo/1A01\",\"kind\":\"hang\",\"seconds\":10,\"count\":0}");
            Task<string>[] tasks = Enumerable.Range(0, 3).Select(_ => client.CodeInfoAsync("1A01")).ToArray();
            Thread.Sleep(300);
            var clock = Stopwatch.StartNew();
            client.Dispose();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), "Dispose took " + clock.Elapsed);
            foreach (Task<string> task in tasks)
            {
                IcdException error = Faulted(task, IcdStatus.Cancelled, "a call of a disposed client");
                Assert.Contains("freed", error.Message, "says why");
            }
        }

        [Test]
        public void AProgramThatExitsWithCallsInFlightEndsCleanly()
        {
            // Left to the finalizers, the library's thread would call back into a runtime that is
            // shutting down (Mono never lets it return): clients with calls in flight are disposed
            // of at ProcessExit instead.
            string stderr;
            Assert.Equal("exiting", RunChild("exit-with-calls-in-flight", new Dictionary<string, string>(), out stderr),
                "the child's output; stderr: " + stderr);
        }

        /// <summary>The child of AProgramThatExitsWithCallsInFlightEndsCleanly: calls to a server
        /// that never answers, one cancelled, none awaited, the client never disposed of.</summary>
        internal static int ExitWithCallsInFlightChild()
        {
            var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            silent.Start();
            IcdClient client = IcdClient.Local("http://127.0.0.1:" + ((System.Net.IPEndPoint)silent.LocalEndpoint).Port);
            client.GetAsync("/icd/entity");
            var source = new CancellationTokenSource();
            client.GetAsync("/icd/entity", source.Token);
            Thread.Sleep(200);
            source.Cancel();
            Console.WriteLine("exiting");
            return 0;
        }

        [Test]
        public void ManyAsyncCallsCompleteWithoutAThreadEach()
        {
            using (IcdClient client = NewClient())
            {
                client.SetCacheEntries(0);
                client.CodeInfo("1A00");
                standIn.Configure("{\"delay_ms\":200}");
                int threadsBefore = Process.GetCurrentProcess().Threads.Count;
                Task<string>[] tasks = Enumerable.Range(0, 64).Select(_ => client.CodeInfoAsync("1A00")).ToArray();
                Thread.Sleep(300);
                int threadsDuring = Process.GetCurrentProcess().Threads.Count;
                Assert.True(Task.WaitAll(tasks, AsyncWait), "64 calls end");
                Assert.True(tasks.All(t => t.Result.Contains("1A00")), "all answered");
                // 16 library threads (async_threads) and a few, not one per call in flight.
                Assert.True(threadsDuring - threadsBefore <= 16 + 4,
                    "threads grew from " + threadsBefore + " to " + threadsDuring + " for 64 calls in flight");
            }
        }
    }
}
