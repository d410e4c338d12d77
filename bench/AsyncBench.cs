// make bench, section 9: N concurrent GETs from C#, either GetAsync (icd_start: the library's
// threads make the calls) or Task.Run over the synchronous Get (a .NET pool thread blocked per
// call in flight). Prints one JSON line: the wall time and the most threads the process had.
//   mono AsyncBench.exe async|taskrun N API_BASE TOKEN_ENDPOINT CA_FILE

using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using IcdApi;

internal static class AsyncBench
{
    private static int Threads()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line.Substring(8).Trim());
            }
        }
        return -1;
    }

    private static int Main(string[] args)
    {
        string mode = args[0];
        int n = int.Parse(args[1]);
        using (IcdClient client = IcdClient.Cloud("bench-client", "bench-secret"))
        {
            client.SetApiBase(args[2]);
            client.SetTokenEndpoint(args[3]);
            client.SetCaFile(args[4]);
            client.SetCacheEntries(0);
            client.Get("/icd/release/11/2024-01/mms/0"); // the token and a first connection
            int before = Threads();
            int peak = before;
            bool done = false;
            var sampler = new Thread(() =>
            {
                while (!Volatile.Read(ref done))
                {
                    peak = Math.Max(peak, Threads());
                    Thread.Sleep(5);
                }
            });
            sampler.Start();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Task<string>[] tasks = Enumerable.Range(1, n)
                .Select(i => "/icd/release/11/2024-01/mms/" + i)
                .Select(path => mode == "async" ? client.GetAsync(path) : Task.Run(() => client.Get(path)))
                .ToArray();
            Task.WaitAll(tasks);
            double seconds = clock.Elapsed.TotalSeconds;
            Volatile.Write(ref done, true);
            sampler.Join();
            if (tasks.Any(t => t.Result.Length < 100))
            {
                Console.Error.WriteLine("a short answer");
                return 1;
            }
            // The sampler itself is one of the threads counted.
            Console.WriteLine("{{\"seconds\": {0:F3}, \"threads_before\": {1}, \"threads_peak\": {2}}}",
                seconds, before - 1, peak - 1);
        }
        return 0;
    }
}
