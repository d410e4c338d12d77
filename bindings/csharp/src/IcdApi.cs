// The native layer of the C# binding of icdapi: status codes, the exception, the P/Invoke
// declarations, the SafeHandle that owns a native client, and UTF-8 marshalling.
// The public client is in IcdClient.cs.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace IcdApi
{
    /// <summary>
    /// Outcome of a native call; the values are those of the C enum <c>IcdStatus</c>.
    /// </summary>
    public enum IcdStatus
    {
        /// <summary>Success.</summary>
        Ok = 0,

        /// <summary>
        /// An empty or malformed argument, an unknown option, a bad option value, or a URI outside
        /// the configured API.
        /// </summary>
        InvalidArgument = 1,

        /// <summary>
        /// The token endpoint refused the credentials, or the API still answered 401 with a freshly
        /// issued token.
        /// </summary>
        Auth = 2,

        /// <summary>The API answered a non-2xx status (see <see cref="IcdException.HttpStatus"/>).</summary>
        Http = 3,

        /// <summary>DNS, connect, TLS, a reset or cut connection, or a body over max_response_bytes.</summary>
        Network = 4,

        /// <summary>The call's deadline (the client's timeout, retries included) passed.</summary>
        Timeout = 5,

        /// <summary>A 2xx body that is not JSON, or a malformed token response.</summary>
        Parse = 6,

        /// <summary>A bug in the native library (a caught panic or a broken invariant). Please report it.</summary>
        Internal = 7,

        /// <summary>
        /// The API answered 2xx but said in the body that it could not do the job: a search or an
        /// autocode whose answer has <c>"error": true</c>. The message quotes the API's
        /// <c>errorMessage</c>; <see cref="IcdException.HttpStatus"/> is the 2xx status. Such an
        /// answer is never cached. (<see cref="IcdClient.Get(string)"/> returns it as it came.)
        /// </summary>
        Api = 8,
    }

    /// <summary>
    /// A call to the ICD API or to the native library failed. <see cref="Status"/> tells what kind of
    /// failure it was, <see cref="HttpStatus"/> the HTTP status of the answer if there was one, and
    /// the message, meant for people, what failed and why. The message never contains the client
    /// secret or a token.
    /// </summary>
    public sealed class IcdException : Exception
    {
        /// <summary>Creates an exception; the binding creates them from the native last error.</summary>
        /// <param name="status">What kind of failure it was.</param>
        /// <param name="message">What failed and why.</param>
        /// <param name="httpStatus">The HTTP status of the answer, or 0 if there was none.</param>
        public IcdException(IcdStatus status, string message, int httpStatus)
            : base(message)
        {
            Status = status;
            HttpStatus = httpStatus;
        }

        /// <summary>What kind of failure it was; never <see cref="IcdStatus.Ok"/>.</summary>
        public IcdStatus Status { get; }

        /// <summary>
        /// The HTTP status of the failed call's last answer (for example 404 with
        /// <see cref="IcdStatus.Http"/>), or 0 if it got no HTTP answer.
        /// </summary>
        public int HttpStatus { get; }

        /// <summary>
        /// Builds the exception from this thread's native last error. Call it straight after the
        /// failing native call, on the same thread, before any other icd_ call: the native last
        /// error is per thread and overwritten by the next call, like errno.
        /// </summary>
        internal static IcdException FromLastError()
        {
            IcdStatus status = Native.icd_last_error_code();
            string message = Utf8.Decode(Native.icd_last_error_message());
            int httpStatus = Native.icd_last_http_status();
            if (status == IcdStatus.Ok)
            {
                // The library broke its own contract (a failure without an error); say so rather
                // than throw an exception that claims success.
                return new IcdException(IcdStatus.Internal,
                    "icdapi reported a failure but no error" + (message.Length > 0 ? ": " + message : ""),
                    httpStatus);
            }
            return new IcdException(status, Messages.InCSharpTerms(message), httpStatus);
        }
    }

    /// <summary>
    /// The C functions of include/icdapi.h. Strings go in as NUL-terminated UTF-8 byte arrays
    /// (see <see cref="Utf8.Encode"/>) and come back as pointers (see <see cref="Utf8.Decode"/>);
    /// Marshal.PtrToStringUTF8 is not in .NET Standard 2.0 nor in Mono's profile.
    /// The client is passed as <see cref="IcdClientHandle"/>: the marshaller then holds a reference
    /// on the handle for the duration of the call (DangerousAddRef/DangerousRelease), so a Dispose
    /// on another thread cannot free the native client while a call is using it, and a call made
    /// after Dispose fails with <see cref="ObjectDisposedException"/>.
    /// </summary>
    internal static class Native
    {
        private const string Library = "icdapi";

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IcdClientHandle icd_client_new(byte[] clientId, byte[] clientSecret);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IcdClientHandle icd_client_new_local(byte[] baseUrl);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IcdStatus icd_client_set_option(IcdClientHandle client, byte[] name, byte[] value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void icd_client_free(IntPtr client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_get(IcdClientHandle client, byte[] pathOrUri);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_post(IcdClientHandle client, byte[] pathOrUri, byte[] jsonBody);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_search(IcdClientHandle client, byte[] query);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_codeinfo(IcdClientHandle client, byte[] code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_autocode(IcdClientHandle client, byte[] text);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_lookup(IcdClientHandle client, byte[] foundationUri);

        // The _with forms take the query parameters as a C array of NUL-terminated UTF-8 strings,
        // name, value, ..., ended by a NULL name (see NativeParameters); null passes NULL.

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_get_with(IcdClientHandle client, byte[] pathOrUri, [In] IntPtr[] parameters);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_search_with(IcdClientHandle client, byte[] query, [In] IntPtr[] parameters);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_codeinfo_with(IcdClientHandle client, byte[] code, [In] IntPtr[] parameters);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_autocode_with(IcdClientHandle client, byte[] text, [In] IntPtr[] parameters);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_entity_by_code(IcdClientHandle client, byte[] code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_icd10(IcdClientHandle client, byte[] code);

        /// <summary>Returns a string the caller frees with icd_free_string.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_client_get_option(IcdClientHandle client, byte[] name);

        // JSON documents. The document is passed as a raw pointer, not as its SafeHandle: IcdJson
        // holds a reference on the handle itself (DangerousAddRef) for the call AND for the
        // reading of what it lent (a borrowed string), which the marshaller's reference, released
        // when the call returns, would not cover.

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IcdJsonHandle icd_json_parse(byte[] json);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void icd_json_free(IntPtr doc);

        /// <summary>Returns a string borrowed from the document: never freed.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_json_string(IntPtr doc, byte[] pointer);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr icd_json_count(IntPtr doc, byte[] pointer);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int icd_json_number(IntPtr doc, byte[] pointer, out double value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int icd_json_bool(IntPtr doc, byte[] pointer, out int value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IcdJsonType icd_json_type(IntPtr doc, byte[] pointer);

        /// <summary>
        /// <c>size_t icd_get_many_detailed(IcdClient*, const char *const *paths_or_uris, size_t count,
        /// char **out_bodies, IcdStatus *out_statuses, int *out_http_statuses)</c> (icd_get_many
        /// plus the HTTP status of every item). The four arrays are blittable, so the marshaller
        /// pins them and passes pointers to their first elements: the native side writes straight
        /// into <paramref name="outBodies"/>, <paramref name="outStatuses"/> (an
        /// <c>enum IcdStatus</c> is a C int) and <paramref name="outHttpStatuses"/>.
        /// </summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern UIntPtr icd_get_many_detailed(IcdClientHandle client, [In] IntPtr[] pathsOrUris, UIntPtr count,
            [In, Out] IntPtr[] outBodies, [In, Out] int[] outStatuses, [In, Out] int[] outHttpStatuses);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern void icd_free_string(IntPtr s);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IcdStatus icd_last_error_code();

        /// <summary>Returns a library-owned string: never freed.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_last_error_message();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int icd_last_http_status();

        /// <summary>Returns a static string: never freed.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_version();

        /// <summary>Returns a static string of comma-separated names: never freed.</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_option_names();
    }

    /// <summary>
    /// Owns one native <c>IcdClient*</c>. The runtime guarantees that <see cref="ReleaseHandle"/>
    /// runs exactly once, after the last call that holds a reference has returned, also when the
    /// owner forgot to dispose (critical finalizer).
    /// </summary>
    internal sealed class IcdClientHandle : SafeHandle
    {
        // Used by the marshaller, which creates the handle for icd_client_new's return value
        // (public, as LibraryImport on modern .NET requires).
        public IcdClientHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            Native.icd_client_free(handle);
            return true;
        }
    }

    /// <summary>UTF-8 marshalling by hand, for .NET Standard 2.0 and Mono alike.</summary>
    internal static class Utf8
    {
        // Strict: a lone surrogate is an error, not silently sent as U+FFFD.
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>
        /// Encodes a required argument as NUL-terminated UTF-8. Throws ArgumentNullException for
        /// null, and ArgumentException for a string the C side could not receive intact: one with
        /// a NUL character (C would cut it there) or a lone surrogate (not encodable as UTF-8).
        /// </summary>
        internal static byte[] Encode(string value, string paramName)
        {
            if (value == null)
            {
                throw new ArgumentNullException(paramName);
            }
            return EncodeOrNull(value, paramName);
        }

        private const string HasNul = "The string contains a NUL character, which C strings cannot hold.";
        private const string HasLoneSurrogate = "The string is not valid UTF-16 (it has a lone surrogate).";

        /// <summary>As <see cref="Encode"/>, but null becomes a NULL pointer.</summary>
        internal static byte[] EncodeOrNull(string value, string paramName)
        {
            if (value == null)
            {
                return null;
            }
            if (value.IndexOf('\0') >= 0)
            {
                throw new ArgumentException(HasNul, paramName);
            }
            int length;
            try
            {
                length = Strict.GetByteCount(value);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException(HasLoneSurrogate, paramName, e);
            }
            var bytes = new byte[length + 1]; // the last byte stays 0: the terminator
            Strict.GetBytes(value, 0, value.Length, bytes, 0);
            return bytes;
        }

        /// <summary>
        /// Copies a string into unmanaged memory as NUL-terminated UTF-8, for arrays of strings
        /// (which the marshaller does not convert). Returns IntPtr.Zero and the reason in
        /// <paramref name="refusal"/> for a string C cannot receive intact (null, a NUL character,
        /// a lone surrogate). Free a non-zero result with Marshal.FreeHGlobal.
        /// </summary>
        internal static IntPtr AllocUnmanaged(string value, out string refusal)
        {
            if (value == null)
            {
                refusal = "the path or URI is null";
                return IntPtr.Zero;
            }
            if (value.IndexOf('\0') >= 0)
            {
                refusal = HasNul;
                return IntPtr.Zero;
            }
            byte[] bytes;
            try
            {
                bytes = new byte[Strict.GetByteCount(value) + 1]; // the last byte stays 0
            }
            catch (EncoderFallbackException)
            {
                refusal = HasLoneSurrogate;
                return IntPtr.Zero;
            }
            Strict.GetBytes(value, 0, value.Length, bytes, 0);
            IntPtr memory = Marshal.AllocHGlobal(bytes.Length);
            Marshal.Copy(bytes, 0, memory, bytes.Length);
            refusal = null;
            return memory;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string; IntPtr.Zero gives "". Does not free it.</summary>
        internal static string Decode(IntPtr text)
        {
            if (text == IntPtr.Zero)
            {
                return "";
            }
            int length = 0;
            while (Marshal.ReadByte(text, length) != 0)
            {
                length++;
            }
            if (length == 0)
            {
                return "";
            }
            var bytes = new byte[length];
            Marshal.Copy(text, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }

    /// <summary>
    /// Loads the native library before the first call of an entry point (<see cref="IcdClient.Cloud"/>,
    /// <see cref="IcdClient.Local"/>, <see cref="IcdClient.Version"/>, <see cref="IcdJson.Parse"/>),
    /// so that a library the runtime cannot find is reported in one place, with what to do.
    /// </summary>
    internal static class Loader
    {
        private static volatile bool loaded;

        /// <summary>Throws <see cref="DllNotFoundException"/> saying what was looked for and how to
        /// make it findable; the runtime's own exception (Mono's names no file) is the inner one.</summary>
        internal static void EnsureLoaded()
        {
            if (loaded)
            {
                return;
            }
            try
            {
                Native.icd_version();
                loaded = true;
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException(NotFound(e.Message), e);
            }
        }

        internal static string NotFound(string runtimeSaid) =>
            "The native library of icdapi was not found: the runtime looked for \"icdapi\" " +
            "(libicdapi.so on Linux, libicdapi.dylib on macOS, icdapi.dll on Windows) beside the application " +
            "and on the system's library path. To fix it, either: " +
            "(1) install the NuGet package IcdApi, which carries runtimes/linux-x64/native/libicdapi.so: " +
            ".NET Core and .NET 5+ find it through the application's deps.json (dotnet build, run and publish " +
            "write it); on Mono or .NET Framework the package's build/IcdApi.targets copies it beside the .exe, " +
            "or copy it there yourself; " +
            "or (2) build it in your icdapi checkout with `cargo build --release` and let the loader find it: " +
            "export LD_LIBRARY_PATH=$ICDAPI/target/release (DYLD_LIBRARY_PATH on macOS, PATH on Windows), " +
            "or copy target/release/libicdapi.so beside your application. " +
            "The runtime said: " + runtimeSaid;
    }

    /// <summary>
    /// Native messages in the terms of a C# caller: where the native library names one of its
    /// options (timeout_ms, the release option, ...), the message names the IcdClient member that
    /// sets it.
    /// </summary>
    internal static class Messages
    {
        private static readonly KeyValuePair<Regex, string>[] CallRules =
        {
            Rule(@"\(timeout_ms = (\d+)\)", "(SetTimeout: $1 ms)"),
            Rule(@"larger than max_response_bytes \(", "larger than SetMaxResponseBytes allows ("),
            Rule(@": set the release option$", ": call SetRelease with one of them"),
            Rule(@"set the option ca_file to a PEM bundle", "call SetCaFile with a PEM bundle"),
            Rule(@"\bicd_client_new_local\b", "IcdClient.Local"),
            Rule(@"\bicd_client_new\b", "IcdClient.Cloud"),
        };

        private static KeyValuePair<Regex, string> Rule(string pattern, string replacement) =>
            new KeyValuePair<Regex, string>(new Regex(pattern, RegexOptions.CultureInvariant), replacement);

        /// <summary>A native message with the native option names replaced by the C# members.</summary>
        internal static string InCSharpTerms(string message)
        {
            foreach (KeyValuePair<Regex, string> rule in CallRules)
            {
                message = rule.Key.Replace(message, rule.Value);
            }
            return message;
        }

        /// <summary>
        /// The message of a typed setter whose value the native library refused: the C# call as
        /// the caller wrote it, then the reason, with the native option's name replaced by the
        /// member's: "SetLanguage(\"en us\"): expected a language tag such as en, fr, zh or pt-BR".
        /// </summary>
        internal static string ForSetter(string member, string shownValue, string option, string native)
        {
            string call = member + "(" + shownValue + ")";
            Match bad = Regex.Match(native, "^bad value \".*\" for option " + Regex.Escape(option) + ": (.*)$",
                RegexOptions.Singleline | RegexOptions.CultureInvariant);
            string reason = bad.Success
                ? bad.Groups[1].Value
                : Regex.Replace(native, "^(option )?" + Regex.Escape(option) + ":? ", "", RegexOptions.CultureInvariant);
            // "option release" is the option; a bare "release" may be a plain word ("a language
            // tag", "the proxy tunnels"): only names like timeout_ms are surely the option.
            string name = option.IndexOf('_') >= 0 ? "\\b(option )?" : "\\boption ";
            reason = Regex.Replace(reason, name + Regex.Escape(option) + "\\b", member, RegexOptions.CultureInvariant);
            return call + ": " + reason;
        }

        /// <summary>A string argument as C# source would show it, shortened past 100 characters.</summary>
        internal static string Quoted(string value) =>
            "\"" + (value.Length > 100 ? value.Substring(0, 100) + "..." : value) + "\"";
    }

    /// <summary>
    /// Query parameters as the _with functions take them: a C array of NUL-terminated UTF-8
    /// strings, name, value, name, value, ..., ended by a NULL name, in unmanaged memory that
    /// <see cref="Dispose"/> frees. Refuses, before any native call, what cannot be sent as given.
    /// </summary>
    internal sealed class NativeParameters : IDisposable
    {
        private const string ParamName = "parameters";

        internal NativeParameters(IDictionary<string, string> parameters)
        {
            if (parameters == null)
            {
                throw new ArgumentNullException(ParamName);
            }
            var strings = new List<IntPtr>(parameters.Count * 2 + 1);
            try
            {
                foreach (KeyValuePair<string, string> parameter in parameters)
                {
                    string name = parameter.Key;
                    if (name == null)
                    {
                        throw new ArgumentException("A parameter has a null name.", ParamName);
                    }
                    if (parameter.Value == null)
                    {
                        throw new ArgumentException("The parameter \"" + name + "\" has a null value: give it a value " +
                            "(\"\" sends " + name + "=) or leave it out.", ParamName);
                    }
                    if (name.Length == 0)
                    {
                        throw new IcdException(IcdStatus.InvalidArgument, "parameters: a parameter has an empty name " +
                            "(its value is " + Messages.Quoted(parameter.Value) + "); nothing was sent", 0);
                    }
                    strings.Add(Allocate(name, "name", name));
                    strings.Add(Allocate(parameter.Value, "value", name));
                }
                strings.Add(IntPtr.Zero);
            }
            catch
            {
                Free(strings);
                throw;
            }
            Array = strings.ToArray();
        }

        /// <summary>The array to pass; its last element is the NULL that ends it.</summary>
        internal IntPtr[] Array { get; }

        private static IntPtr Allocate(string text, string what, string name)
        {
            string refusal;
            IntPtr memory = Utf8.AllocUnmanaged(text, out refusal);
            if (memory == IntPtr.Zero)
            {
                throw new ArgumentException("The " + what + " of the parameter \"" + name + "\" cannot be sent: " + refusal, ParamName);
            }
            return memory;
        }

        public void Dispose() => Free(Array);

        private static void Free(IEnumerable<IntPtr> strings)
        {
            if (strings == null)
            {
                return;
            }
            foreach (IntPtr memory in strings)
            {
                if (memory != IntPtr.Zero)
                {
                    Marshal.FreeHGlobal(memory);
                }
            }
        }
    }
}
