// The program of the NuGet package test (test-package.sh): built against the package's
// lib/netstandard2.0/IcdApi.dll and run from a restored layout, it says where the binding and the
// native library were loaded from, and makes one search through them.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using IcdApi;

internal static class PackageCheck
{
    private static int Main()
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        string nativeVersion = IcdClient.Version; // loads the native library
        // The file the loader mapped: /proc/self/maps names it.
        string nativeFile = File.ReadLines("/proc/self/maps")
            .Where(line => line.EndsWith("/libicdapi.so", StringComparison.Ordinal))
            .Select(line => line.Substring(line.IndexOf('/')))
            .FirstOrDefault();
        Console.WriteLine("runtime: " + (Type.GetType("Mono.Runtime") != null ? "mono" : "coreclr"));
        Console.WriteLine("native library: " + nativeVersion + " from " + nativeFile);
        Console.WriteLine("binding: " + typeof(IcdClient).Assembly.GetName().Version + " from " + typeof(IcdClient).Assembly.Location);
        using (IcdClient client = IcdClient.Cloud(null, null))
        using (IcdJson found = IcdJson.Parse(client.Search("cholera", new Dictionary<string, string> { ["highlightingEnabled"] = "false" })))
        {
            Console.WriteLine("search: " + found.String("/destinationEntities/0/theCode") + " " + found.String("/destinationEntities/0/title"));
        }
        return 0;
    }
}
