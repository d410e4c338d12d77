// The public client of the C# binding of icdapi. The native layer is in IcdApi.cs.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;

namespace IcdApi
{
    /// <summary>
    /// A client of the WHO ICD API (ICD-11 and ICD-10), over the native icdapi library.
    /// </summary>
    /// <remarks>
    /// <para>Create it with <see cref="Cloud"/> (the WHO cloud API, OAuth2 client credentials) or
    /// <see cref="Local"/> (WHO's local-deployment container), and dispose of it when done.
    /// Requests return the API's JSON text unchanged: read it with <see cref="IcdJson"/> (JSON
    /// Pointers, JSON-LD titles as their text), or with the JSON library of your choice.</para>
    /// <para>Thread-safety: one client may be shared by any number of threads, for requests and
    /// setters alike; they share one token, one connection pool and one response cache. Create one
    /// client per application, not one per request: clients of a process with the same credentials
    /// share their token, and clients with the same transport settings (ca_file, proxy) share one
    /// pool of kept-alive connections, but each client has its own response cache. <see cref="Dispose"/> is safe to call while
    /// other threads are still in a call: the native client is freed when the last of those calls
    /// returns, and every later call throws <see cref="ObjectDisposedException"/>.</para>
    /// <para>Errors: a failed call throws <see cref="IcdException"/>; a null argument throws
    /// <see cref="ArgumentNullException"/> and a string that C cannot receive intact (one with a
    /// NUL character or a lone surrogate) throws <see cref="ArgumentException"/>, before any
    /// native call. Empty or malformed values are checked by the native library and throw
    /// <see cref="IcdException"/> with <see cref="IcdStatus.InvalidArgument"/>.</para>
    /// </remarks>
    public sealed partial class IcdClient : IDisposable
    {
        private readonly IcdClientHandle handle;

        // Set by Dispose. The handle alone cannot tell: while a call on another thread still holds a
        // reference, a disposed SafeHandle is not yet closed and would accept new calls.
        private int disposed;

        private IcdClient(IcdClientHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>The version of the native library loaded, for example "0.3.0".</summary>
        /// <exception cref="DllNotFoundException">The native library icdapi cannot be found; the
        /// message says what was looked for and what to do.</exception>
        public static string Version
        {
            get
            {
                Loader.EnsureLoaded();
                return Utf8.Decode(Native.icd_version());
            }
        }

        /// <summary>The name of every option the native library takes (<see cref="SetOption"/>),
        /// in the order of its documentation: "language", "release", ... Each has a typed setter
        /// here too (<see cref="SetLanguage"/>, ...; timeout_ms is <see cref="SetTimeout"/>).</summary>
        /// <exception cref="DllNotFoundException">The native library icdapi cannot be found.</exception>
        public static IReadOnlyList<string> OptionNames
        {
            get
            {
                Loader.EnsureLoaded();
                return Utf8.Decode(Native.icd_option_names()).Split(',');
            }
        }

        /// <summary>
        /// Creates a client for the WHO cloud API, with the client id and secret from
        /// https://icd.who.int/icdapi. Does no network I/O: the token is fetched on the first request.
        /// </summary>
        /// <param name="clientId">The client id; null (together with <paramref name="clientSecret"/>)
        /// to read the environment variable ICD_CLIENT_ID.</param>
        /// <param name="clientSecret">The client secret; null (together with <paramref name="clientId"/>)
        /// to read ICD_CLIENT_SECRET. The native library keeps its own copy in memory that it wipes
        /// when the client is freed, and never logs it or puts it in a message.</param>
        /// <returns>A client to dispose of.</returns>
        /// <remarks>The environment variables ICD_API_BASE and ICD_TOKEN_ENDPOINT, when set, replace
        /// the default API and token URLs; plain http:// is refused for both unless the host is
        /// loopback.</remarks>
        /// <exception cref="ArgumentNullException">Only one of the two is null.</exception>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: an empty value,
        /// an environment variable not set, or a bad URL in the environment.</exception>
        /// <exception cref="DllNotFoundException">The native library icdapi cannot be found; the
        /// message says what was looked for and what to do.</exception>
        public static IcdClient Cloud(string clientId, string clientSecret)
        {
            if ((clientId == null) != (clientSecret == null))
            {
                throw new ArgumentNullException(clientId == null ? nameof(clientId) : nameof(clientSecret),
                    "Give both the client id and the client secret, or neither to read ICD_CLIENT_ID and ICD_CLIENT_SECRET.");
            }
            byte[] id = Utf8.EncodeOrNull(clientId, nameof(clientId));
            byte[] secret = Utf8.EncodeOrNull(clientSecret, nameof(clientSecret));
            try
            {
                Loader.EnsureLoaded();
                return Created(Native.icd_client_new(id, secret));
            }
            finally
            {
                // The native side has its own copy; leave no extra one of the secret around.
                if (secret != null)
                {
                    Array.Clear(secret, 0, secret.Length);
                }
            }
        }

        /// <summary>
        /// Creates a client for WHO's ICD-API local deployment (the whoicd/icd-api container), which
        /// needs no token and no credentials. Does no network I/O.
        /// </summary>
        /// <param name="baseUrl">Where the container answers, such as "http://localhost:8080" (plain
        /// http is allowed: there is no secret to protect); null to read ICD_API_BASE.</param>
        /// <returns>A client to dispose of.</returns>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: a URL that is not
        /// http(s)://host[:port][/prefix].</exception>
        /// <exception cref="DllNotFoundException">The native library icdapi cannot be found; the
        /// message says what was looked for and what to do.</exception>
        public static IcdClient Local(string baseUrl)
        {
            byte[] url = Utf8.EncodeOrNull(baseUrl, nameof(baseUrl));
            Loader.EnsureLoaded();
            return Created(Native.icd_client_new_local(url));
        }

        private static IcdClient Created(IcdClientHandle handle)
        {
            if (handle.IsInvalid)
            {
                IcdException error = IcdException.FromLastError();
                handle.Dispose();
                throw error;
            }
            return new IcdClient(handle);
        }

        /// <summary>
        /// Frees the native client and wipes its secret and token from memory. Idempotent; safe
        /// while other threads are in a call (the native client is freed after the last one returns).
        /// </summary>
        public void Dispose()
        {
            Interlocked.Exchange(ref disposed, 1);
            handle.Dispose();
        }

        // ---- Requests -------------------------------------------------------------------------

        /// <summary>GETs a path or URI and returns the response body, a JSON document.</summary>
        /// <param name="pathOrUri">A path starting with '/' (with or without a query string),
        /// resolved against the API base, e.g. "/icd/release/11/2026-01/mms/257068234"; an absolute
        /// "http://id.who.int/..." URI (the "@id" values of the answers), rewritten to the API base;
        /// or an absolute URI under the API base. Any other host is refused
        /// (<see cref="IcdStatus.InvalidArgument"/>): the token goes nowhere else.</param>
        /// <returns>The JSON text of the answer.</returns>
        /// <remarks>Successful answers are cached as long as their Cache-Control allows.</remarks>
        /// <exception cref="IcdException">The call failed; see <see cref="IcdException.Status"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Get(string pathOrUri)
        {
            byte[] path = Utf8.Encode(pathOrUri, nameof(pathOrUri));
            return Taken(Native.icd_get(Live(), path));
        }

        /// <summary>POSTs a JSON body to a path or URI (resolved as for <see cref="Get(string)"/>) and
        /// returns the response body. Answers of POST are never cached.</summary>
        /// <param name="pathOrUri">As for <see cref="Get(string)"/>.</param>
        /// <param name="jsonBody">The request body, which must be valid JSON
        /// (otherwise <see cref="IcdStatus.InvalidArgument"/>).</param>
        /// <returns>The JSON text of the answer.</returns>
        /// <exception cref="IcdException">The call failed; see <see cref="IcdException.Status"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Post(string pathOrUri, string jsonBody)
        {
            byte[] path = Utf8.Encode(pathOrUri, nameof(pathOrUri));
            byte[] body = Utf8.Encode(jsonBody, nameof(jsonBody));
            return Taken(Native.icd_post(Live(), path, body));
        }

        /// <summary>Searches the configured release and linearization
        /// (/icd/release/11/{release}/{linearization}/search?q=...).</summary>
        /// <param name="query">The search text, not empty; a trailing '%' asks for a wildcard match.</param>
        /// <returns>The JSON search result.</returns>
        /// <exception cref="IcdException">The call failed; see <see cref="IcdException.Status"/>. A
        /// search the API could not run (it answers 200 with "error": true) is
        /// <see cref="IcdStatus.Api"/>, with the API's errorMessage.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Search(string query)
        {
            byte[] q = Utf8.Encode(query, nameof(query));
            return Taken(Native.icd_search(Live(), q));
        }

        /// <summary>Code information (/icd/release/11/{release}/{linearization}/codeinfo/{code}).</summary>
        /// <param name="code">An ICD-11 code such as "1A00"; postcoordinated codes with '&amp;' and
        /// '/' are percent-encoded and arrive intact.</param>
        /// <returns>The JSON code information, with "code" and "stemId".</returns>
        /// <exception cref="IcdException">The call failed; an unknown code gives
        /// <see cref="IcdStatus.Http"/> with <see cref="IcdException.HttpStatus"/> 404.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string CodeInfo(string code)
        {
            byte[] c = Utf8.Encode(code, nameof(code));
            return Taken(Native.icd_codeinfo(Live(), c));
        }

        /// <summary>Automatic coding of a diagnostic text
        /// (/icd/release/11/{release}/{linearization}/autocode?searchText=...).</summary>
        /// <param name="text">The diagnostic text.</param>
        /// <returns>The JSON autocoding result.</returns>
        /// <exception cref="IcdException">The call failed; see <see cref="IcdException.Status"/>
        /// (<see cref="IcdStatus.Api"/> when the API answers "error": true).</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Autocode(string text)
        {
            byte[] t = Utf8.Encode(text, nameof(text));
            return Taken(Native.icd_autocode(Live(), t));
        }

        /// <summary>The linearization entity of a Foundation entity
        /// (/icd/release/11/{release}/{linearization}/lookup?foundationUri=...).</summary>
        /// <param name="foundationUri">A Foundation URI such as "http://id.who.int/icd/entity/257068234".</param>
        /// <returns>The JSON linearization entity.</returns>
        /// <exception cref="IcdException">The call failed; see <see cref="IcdException.Status"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Lookup(string foundationUri)
        {
            byte[] uri = Utf8.Encode(foundationUri, nameof(foundationUri));
            return Taken(Native.icd_lookup(Live(), uri));
        }

        // ---- Query parameters -------------------------------------------------------------------
        // Every parameter of WHO's API, passed as name => value: the native library percent-encodes
        // each name and value and appends them, in the dictionary's order, after the call's own.

        /// <summary><see cref="Get(string)"/> with query parameters, appended to the query the path
        /// or URI may already hold: e.g. <c>{ ["include"] = "ancestor" }</c>.</summary>
        /// <param name="pathOrUri">As for <see cref="Get(string)"/>.</param>
        /// <param name="parameters">Names and values, sent in the dictionary's order. Names are not
        /// checked against a list: every parameter of the API can be passed. An empty value is
        /// sent as "name=".</param>
        /// <returns>The JSON text of the answer, as it came (even one with "error": true).</returns>
        /// <remarks>The response cache keys on the full URL: other parameters are another entry.</remarks>
        /// <exception cref="ArgumentNullException"><paramref name="pathOrUri"/> or
        /// <paramref name="parameters"/> is null.</exception>
        /// <exception cref="ArgumentException">A parameter with a null name or value, or one C cannot
        /// receive intact (a NUL character, a lone surrogate); nothing is sent.</exception>
        /// <exception cref="IcdException">The call failed; a parameter with an empty name is
        /// <see cref="IcdStatus.InvalidArgument"/> and nothing is sent.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Get(string pathOrUri, IDictionary<string, string> parameters) =>
            WithParameters(Utf8.Encode(pathOrUri, nameof(pathOrUri)), parameters, Native.icd_get_with);

        /// <summary><see cref="Search(string)"/> with more query parameters after q: e.g.
        /// <c>{ ["highlightingEnabled"] = "false", ["flatResults"] = "true", ["chapterFilter"] = "01;02" }</c>
        /// (plain titles, without &lt;em class='found'&gt;; hits in one list; only chapters 01 and 02).</summary>
        /// <param name="query">As for <see cref="Search(string)"/>.</param>
        /// <param name="parameters">As for <see cref="Get(string, IDictionary{string, string})"/>:
        /// flatResults, highlightingEnabled, chapterFilter, subtreesFilter, useFlexisearch,
        /// medicalCodingMode, propertiesToBeSearched, includeKeywordResult, releaseId, ...</param>
        /// <returns>The JSON search result.</returns>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">As for <see cref="Get(string, IDictionary{string, string})"/>.</exception>
        /// <exception cref="IcdException">As for <see cref="Search(string)"/>, <see cref="IcdStatus.Api"/> included.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Search(string query, IDictionary<string, string> parameters) =>
            WithParameters(Utf8.Encode(query, nameof(query)), parameters, Native.icd_search_with);

        /// <summary><see cref="CodeInfo(string)"/> with query parameters after the code
        /// (flexiblemode, convertToTerminalCodes, ...).</summary>
        /// <param name="code">As for <see cref="CodeInfo(string)"/>.</param>
        /// <param name="parameters">As for <see cref="Get(string, IDictionary{string, string})"/>.</param>
        /// <returns>The JSON code information.</returns>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">As for <see cref="Get(string, IDictionary{string, string})"/>.</exception>
        /// <exception cref="IcdException">As for <see cref="CodeInfo(string)"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string CodeInfo(string code, IDictionary<string, string> parameters) =>
            WithParameters(Utf8.Encode(code, nameof(code)), parameters, Native.icd_codeinfo_with);

        /// <summary><see cref="Autocode(string)"/> with more query parameters after searchText
        /// (matchThreshold, subtreesFilter, ...).</summary>
        /// <param name="text">As for <see cref="Autocode(string)"/>.</param>
        /// <param name="parameters">As for <see cref="Get(string, IDictionary{string, string})"/>.</param>
        /// <returns>The JSON autocoding result.</returns>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">As for <see cref="Get(string, IDictionary{string, string})"/>.</exception>
        /// <exception cref="IcdException">As for <see cref="Autocode(string)"/>, <see cref="IcdStatus.Api"/> included.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Autocode(string text, IDictionary<string, string> parameters) =>
            WithParameters(Utf8.Encode(text, nameof(text)), parameters, Native.icd_autocode_with);

        // ---- From a code to its entity; ICD-10 --------------------------------------------------

        /// <summary>The linearization entity of a code, in the client's language and release, in one
        /// call: the code information, then its "stemId" followed. A postcoordinated code
        /// ("1A00&amp;XN6Y3") gives the entity of its stem.</summary>
        /// <param name="code">An ICD-11 code such as "1A00".</param>
        /// <returns>The JSON entity: read its title with <c>IcdJson.Parse(json).String("/title")</c>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="code"/> is null.</exception>
        /// <exception cref="IcdException">The call failed: <see cref="IcdStatus.Http"/> with
        /// <see cref="IcdException.HttpStatus"/> 404 for an unknown code (or a release the API does
        /// not serve, which the message says); <see cref="IcdStatus.Parse"/> when the code
        /// information has no stemId; <see cref="IcdStatus.InvalidArgument"/> for an empty code.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string EntityByCode(string code)
        {
            byte[] c = Utf8.Encode(code, nameof(code));
            return Taken(Native.icd_entity_by_code(Live(), c));
        }

        /// <summary>ICD-10: /icd/release/10/{release}/{code} — a category ("A00.0"), a block
        /// ("A00-A09") or a chapter ("I"), in the release set by <see cref="SetIcd10Release"/>
        /// (2019 by default). The API serves ICD-10 in English and French.</summary>
        /// <param name="code">An ICD-10 code, block or chapter.</param>
        /// <returns>The JSON ICD-10 entity (code, classKind, title, parent, child, ...).</returns>
        /// <exception cref="ArgumentNullException"><paramref name="code"/> is null.</exception>
        /// <exception cref="IcdException">The call failed: <see cref="IcdStatus.Http"/> 404 for an
        /// unknown code or release; <see cref="IcdStatus.InvalidArgument"/> for an empty code.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Icd10(string code)
        {
            byte[] c = Utf8.Encode(code, nameof(code));
            return Taken(Native.icd_icd10(Live(), c));
        }

        // ---- Death certificates -----------------------------------------------------------------

        /// <summary>The underlying cause of death of a death certificate, by WHO's DORIS rules:
        /// GET /icd/release/11/{release}/doris with the certificate's fields as the query, e.g.
        /// <c>{ ["causeOfDeathCodeA"] = "1A00", ["sex"] = "1", ["intervalA"] = "P3D" }</c>.</summary>
        /// <param name="certificate">Field name → value. The names are the 40 certificate fields of
        /// WHO's API, spelled as there: sex, estimatedAge, dateBirth, dateDeath, causeOfDeathCodeA..E,
        /// causeOfDeathUriA..E, causeOfDeathCodePart2, causeOfDeathUriPart2, intervalA..E, surgery*,
        /// autopsy*, mannerOfDeath* (WHO's "PlaceOfOccurance"), fetalOrInfantDeath*, maternalDeath*.
        /// Several codes of one line go in one value, comma-separated.</param>
        /// <returns>The JSON answer as it came: stemCode, stemURI, code, uri, report, tabularReport,
        /// reject, error, warning. A certificate DORIS rejects ("reject": true, "error" saying why) is an
        /// answer, not an exception: read it with <c>IcdJson.Parse(json).Bool("/reject")</c>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="certificate"/> is null.</exception>
        /// <exception cref="ArgumentException">A null name or value, or text that cannot be sent.</exception>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>, and nothing sent, for an
        /// unknown field (the message names the closest: causeOfDeathCodeA1 → causeOfDeathCodeA) or a
        /// certificate without any cause of death; otherwise as <see cref="Get(string)"/> fails
        /// (<see cref="IcdStatus.Http"/> 400 for a value the API cannot read, ...).</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Doris(IDictionary<string, string> certificate) => Certificate(certificate, Native.icd_doris);

        /// <summary>The check of a death certificate (WHO's CoDEdit):
        /// GET /icd/release/11/{release}/codedit; the same fields and checks as <see cref="Doris"/>.</summary>
        /// <param name="certificate">As for <see cref="Doris"/>.</param>
        /// <returns>The JSON answer as it came: report, tabularReport, issueIds.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="certificate"/> is null.</exception>
        /// <exception cref="ArgumentException">As for <see cref="Doris"/>.</exception>
        /// <exception cref="IcdException">As for <see cref="Doris"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string CodEdit(IDictionary<string, string> certificate) => Certificate(certificate, Native.icd_codedit);

        private string Certificate(IDictionary<string, string> certificate, Func<IcdClientHandle, IntPtr[], IntPtr> call)
        {
            using (var native = new NativeParameters(certificate, nameof(certificate)))
            {
                return Taken(call(Live(), native.Array));
            }
        }

        /// <summary>GETs many paths or URIs concurrently — at most <see cref="SetConcurrency"/> at
        /// a time, 16 by default — and returns every answer in order. One failed item does not fail
        /// the others, nor the call: look at each item's <see cref="IcdBatchItem.Status"/>.</summary>
        /// <param name="pathsOrUris">Paths or URIs, each as for <see cref="Get(string)"/>. An element that
        /// is null, or that C cannot receive intact (a NUL character, a lone surrogate), is not
        /// requested: its item fails with <see cref="IcdStatus.InvalidArgument"/>, like a URI on
        /// another host.</param>
        /// <returns>One item per path or URI, in the same order, with its body or its status and
        /// its HTTP status (<see cref="IcdBatchItem.HttpStatus"/>), and
        /// <see cref="IcdBatchResult.FirstError"/> telling why the first failed item failed.</returns>
        /// <remarks>The items share the client's token (fetched once for the whole batch), its
        /// connections and its caches, and the call blocks until every item is done (each item
        /// has the client's timeout). An empty sequence gives an empty result without a request.</remarks>
        /// <exception cref="ArgumentNullException"><paramref name="pathsOrUris"/> is null.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public IcdBatchResult GetMany(IEnumerable<string> pathsOrUris)
        {
            if (pathsOrUris == null)
            {
                throw new ArgumentNullException(nameof(pathsOrUris));
            }
            string[] targets = new List<string>(pathsOrUris).ToArray();
            IcdClientHandle live = Live();
            int count = targets.Length;
            var items = new IcdBatchItem[count];
            if (count == 0)
            {
                return new IcdBatchResult(items, 0, null);
            }

            var paths = new IntPtr[count];
            var refusals = new string[count];
            var outBodies = new IntPtr[count];
            var outStatuses = new int[count];
            var outHttpStatuses = new int[count];
            try
            {
                for (int i = 0; i < count; i++)
                {
                    // A refused element stays NULL, which the library fails as InvalidArgument.
                    paths[i] = Utf8.AllocUnmanaged(targets[i], out refusals[i]);
                }
                int succeeded = checked((int)Native.icd_get_many_detailed(live, paths, new UIntPtr((uint)count), outBodies, outStatuses, outHttpStatuses).ToUInt64());
                // Read straight away, on this thread: it describes the first failed item.
                IcdException nativeError = succeeded < count ? IcdException.FromLastError() : null;

                IcdException firstError = null;
                for (int i = 0; i < count; i++)
                {
                    string body = null;
                    if (outBodies[i] != IntPtr.Zero)
                    {
                        IntPtr text = outBodies[i];
                        outBodies[i] = IntPtr.Zero;
                        try
                        {
                            body = Utf8.Decode(text);
                        }
                        finally
                        {
                            Native.icd_free_string(text);
                        }
                    }
                    var status = (IcdStatus)outStatuses[i];
                    int httpStatus = outHttpStatuses[i];
                    if (refusals[i] != null)
                    {
                        status = IcdStatus.InvalidArgument;
                        httpStatus = 0; // never requested
                    }
                    else if (status == IcdStatus.Ok && body == null)
                    {
                        status = IcdStatus.Internal; // the library broke its contract; do not claim success
                    }
                    if (status != IcdStatus.Ok && firstError == null)
                    {
                        firstError = refusals[i] != null || nativeError == null
                            ? new IcdException(status, "item " + i + ": " + (refusals[i] ?? "icdapi reported no error for this failure"), 0)
                            : nativeError;
                    }
                    items[i] = new IcdBatchItem(i, targets[i], status, httpStatus, status == IcdStatus.Ok ? body : null);
                }
                return new IcdBatchResult(items, succeeded, firstError);
            }
            finally
            {
                for (int i = 0; i < count; i++)
                {
                    if (paths[i] != IntPtr.Zero)
                    {
                        Marshal.FreeHGlobal(paths[i]);
                    }
                    if (outBodies[i] != IntPtr.Zero) // only if decoding was cut short
                    {
                        Native.icd_free_string(outBodies[i]);
                    }
                }
            }
        }

        // ---- Options --------------------------------------------------------------------------
        // Each setter is thread-safe; calls already under way finish with the settings they started
        // with. A rejected value throws IcdException (InvalidArgument) whose message names the
        // setter and the value as it was given — "SetTimeout(-00:00:01): ..." — never a native
        // option, and leaves the option unchanged.

        /// <summary>Sets one option by its native name (see include/icdapi.h, icd_client_set_option),
        /// for options this binding has no setter for. The typed setters below are the usual way.</summary>
        /// <param name="name">The native option name, such as "language" or "timeout_ms".</param>
        /// <param name="value">Its value, as text.</param>
        /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="value"/> is null.</exception>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: an unknown name or
        /// a bad value; the message says what is expected.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public void SetOption(string name, string value)
        {
            byte[] n = Utf8.Encode(name, nameof(name));
            byte[] v = Utf8.Encode(value, nameof(value));
            if (Native.icd_client_set_option(Live(), n, v) != IcdStatus.Ok)
            {
                throw IcdException.FromLastError();
            }
        }

        /// <summary>The current value of an option, by its native name, as text in the form
        /// <see cref="SetOption"/> takes: "2026-01" for "release", "30000" for "timeout_ms", "off"
        /// or "debug" for "log", "" for an option not set (proxy, ca_file, token_cache_file,
        /// cache_dir). The credentials are not options and can never be read back.</summary>
        /// <param name="name">The native option name, such as "release" or "icd10_release".</param>
        /// <returns>The value in force at the moment of the call.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: an unknown name.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string GetOption(string name)
        {
            byte[] n = Utf8.Encode(name, nameof(name));
            return Taken(Native.icd_client_get_option(Live(), n));
        }

        /// <summary>The language of the answers (Accept-Language), such as "en" (the default),
        /// "fr", "es", "ar", "zh", "ru".</summary>
        /// <param name="language">A language tag.</param>
        public void SetLanguage(string language) =>
            SetTyped(nameof(SetLanguage), "language", language, nameof(language));

        /// <summary>The ICD-11 release used by Search, CodeInfo, Autocode, Lookup and EntityByCode,
        /// such as "2026-01" (the default) or "2024-01". A local deployment serves only the releases
        /// it was started with: the 404 of a release it does not serve says which it serves.</summary>
        /// <param name="release">A release id.</param>
        public void SetRelease(string release) =>
            SetTyped(nameof(SetRelease), "release", release, nameof(release));

        /// <summary>The linearization used by Search, CodeInfo, Autocode, Lookup and EntityByCode:
        /// "mms" (the default) or "icf".</summary>
        /// <param name="linearization">"mms" or "icf".</param>
        public void SetLinearization(string linearization) =>
            SetTyped(nameof(SetLinearization), "linearization", linearization, nameof(linearization));

        /// <summary>The ICD-10 release used by <see cref="Icd10"/>: "2019" (the default), "2016",
        /// "2010" or "2008" (any non-empty release id is taken).</summary>
        /// <param name="release">An ICD-10 release id.</param>
        public void SetIcd10Release(string release) =>
            SetTyped(nameof(SetIcd10Release), "icd10_release", release, nameof(release));

        /// <summary>The API-Version header, "v2" by default.</summary>
        /// <param name="apiVersion">A version such as "v2".</param>
        public void SetApiVersion(string apiVersion) =>
            SetTyped(nameof(SetApiVersion), "api_version", apiVersion, nameof(apiVersion));

        /// <summary>Where requests go, "https://id.who.int" by default (https only on a cloud client
        /// unless the host is loopback). Switches to the token issued for the new pair.</summary>
        /// <param name="apiBase">A URL http(s)://host[:port][/prefix].</param>
        public void SetApiBase(string apiBase) =>
            SetTyped(nameof(SetApiBase), "api_base", apiBase, nameof(apiBase));

        /// <summary>The OAuth2 token URL of a cloud client (not of a local one), by default
        /// "https://icdaccessmanagement.who.int/connect/token". Switches to the token issued for the new pair.</summary>
        /// <param name="tokenEndpoint">An https URL (or http on a loopback host).</param>
        public void SetTokenEndpoint(string tokenEndpoint) =>
            SetTyped(nameof(SetTokenEndpoint), "token_endpoint", tokenEndpoint, nameof(tokenEndpoint));

        /// <summary>The longest timeout <see cref="SetTimeout"/> takes.</summary>
        public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

        /// <summary>The deadline of one whole call, retries and token fetch included; 30 s by
        /// default. More than zero and at most <see cref="MaxTimeout"/> (24 hours); sent in whole
        /// milliseconds, rounded up.</summary>
        /// <param name="timeout">The deadline.</param>
        public void SetTimeout(TimeSpan timeout)
        {
            IcdClientHandle live = Live();
            if (timeout <= TimeSpan.Zero || timeout > MaxTimeout)
            {
                // Read back, to tell the caller what stays in force.
                IntPtr current = Native.icd_client_get_option(live, Utf8.Encode("timeout_ms", "name"));
                long currentMs;
                string keeps = current != IntPtr.Zero &&
                    long.TryParse(Taken(current), NumberStyles.None, CultureInfo.InvariantCulture, out currentMs)
                    ? "; the client keeps its timeout of " + TimeSpan.FromMilliseconds(currentMs).ToString("c", CultureInfo.InvariantCulture)
                    : "";
                throw new IcdException(IcdStatus.InvalidArgument,
                    "SetTimeout(" + timeout.ToString("c", CultureInfo.InvariantCulture) + "): expected a TimeSpan " +
                    "more than zero and at most 24 hours, such as TimeSpan.FromSeconds(30)" + keeps, 0);
            }
            long ms = (long)Math.Ceiling(timeout.TotalMilliseconds);
            SetTyped(nameof(SetTimeout), "timeout_ms", ms.ToString(CultureInfo.InvariantCulture), nameof(timeout),
                timeout.ToString("c", CultureInfo.InvariantCulture));
        }

        /// <summary>How many times a call retries 429, 500, 502, 503, 504 answers and cut
        /// connections: 0 to 10, 2 by default.</summary>
        /// <param name="maxRetries">The number of retries.</param>
        public void SetMaxRetries(int maxRetries) =>
            SetNumber(nameof(SetMaxRetries), "max_retries", maxRetries);

        /// <summary>The number of answers the in-memory response cache keeps, 1024 by default;
        /// 0 disables the cache.</summary>
        /// <param name="cacheEntries">The number of entries.</param>
        public void SetCacheEntries(int cacheEntries) =>
            SetNumber(nameof(SetCacheEntries), "cache_entries", cacheEntries);

        /// <summary>The largest answer body accepted, 32 MiB by default (at least 1024); a larger
        /// one fails with <see cref="IcdStatus.Network"/>.</summary>
        /// <param name="maxResponseBytes">The limit in bytes.</param>
        public void SetMaxResponseBytes(long maxResponseBytes) =>
            SetNumber(nameof(SetMaxResponseBytes), "max_response_bytes", maxResponseBytes);

        /// <summary>The User-Agent header, "icdapi/&lt;version&gt;" by default.</summary>
        /// <param name="userAgent">1 to 256 printable ASCII characters.</param>
        public void SetUserAgent(string userAgent) =>
            SetTyped(nameof(SetUserAgent), "user_agent", userAgent, nameof(userAgent));

        /// <summary>An HTTP proxy "http://host:port", or "none" for a direct connection. By default
        /// the environment's HTTPS_PROXY or ALL_PROXY.</summary>
        /// <param name="proxy">The proxy URL, or "none".</param>
        public void SetProxy(string proxy) =>
            SetTyped(nameof(SetProxy), "proxy", proxy, nameof(proxy));

        /// <summary>A PEM file of certificates to trust instead of the system's store; "" to go
        /// back to the system's store. The file is read now: a missing or bad file is refused.</summary>
        /// <param name="caFile">The path of the PEM bundle.</param>
        public void SetCaFile(string caFile) =>
            SetTyped(nameof(SetCaFile), "ca_file", caFile, nameof(caFile));

        /// <summary>Turns the debug log on or off: one line per request, retry and token fetch on
        /// the process's standard error, without secrets or tokens. ICDAPI_LOG=debug in the
        /// environment turns it on when the client is created.</summary>
        /// <param name="enabled">True for "debug", false for "off".</param>
        public void SetLog(bool enabled) =>
            SetTyped(nameof(SetLog), "log", enabled ? "debug" : "off", nameof(enabled), enabled ? "true" : "false");

        /// <summary>How many items of <see cref="GetMany"/> are in flight at once: 1 to 64, 16 by
        /// default.</summary>
        /// <param name="concurrency">The number of concurrent requests of one batch.</param>
        public void SetConcurrency(int concurrency) =>
            SetNumber(nameof(SetConcurrency), "concurrency", concurrency);

        /// <summary>How many calls of the <c>...Async</c> methods run at once in the whole process
        /// (the library's own threads): 1 to 256, 16 by default; more are queued, never refused.
        /// It is the process's setting, whichever client sets it.</summary>
        /// <param name="threads">The number of the library's threads that make asynchronous calls.</param>
        public void SetAsyncThreads(int threads) =>
            SetNumber(nameof(SetAsyncThreads), "async_threads", threads);

        /// <summary>A file in which the token is kept and shared between processes with the same
        /// credentials, token endpoint and API (cloud clients only; "" turns it off). Within one
        /// process, clients with the same credentials share a token anyway. The file is created
        /// with mode 0600 on first use; a path whose directory does not exist, or an existing
        /// file that is a symlink, owned by another user or accessible to others, is refused
        /// with <see cref="IcdStatus.InvalidArgument"/>.</summary>
        /// <param name="path">The file's path, or "".</param>
        public void SetTokenCacheFile(string path) =>
            SetTyped(nameof(SetTokenCacheFile), "token_cache_file", path, nameof(path));

        /// <summary>A directory (created with mode 0700 if missing) where answers about fixed
        /// releases — /icd/release/11/{release}/..., /icd/release/10/{release}/... — are kept
        /// across runs and processes, so that they are answered without the network; "" (the
        /// default) turns it off.</summary>
        /// <param name="directory">The directory, or "".</param>
        public void SetCacheDir(string directory) =>
            SetTyped(nameof(SetCacheDir), "cache_dir", directory, nameof(directory));

        /// <summary>The size the cache directory is kept under, removing the entries used least
        /// recently: at least 65536, 256 MiB by default.</summary>
        /// <param name="maxBytes">The limit in bytes.</param>
        public void SetCacheDirMaxBytes(long maxBytes) =>
            SetNumber(nameof(SetCacheDirMaxBytes), "cache_dir_max_bytes", maxBytes);

        /// <summary>A typed setter: the native option set, and a refusal told in C# terms — the
        /// member and the value as the caller gave it (<paramref name="shown"/>, else quoted).</summary>
        private void SetTyped(string member, string option, string value, string paramName, string shown = null)
        {
            byte[] v = Utf8.Encode(value, paramName);
            if (Native.icd_client_set_option(Live(), Utf8.Encode(option, nameof(option)), v) != IcdStatus.Ok)
            {
                IcdException refused = IcdException.FromLastError();
                throw new IcdException(refused.Status,
                    Messages.ForSetter(member, shown ?? Messages.Quoted(value), option, refused.Message), refused.HttpStatus);
            }
        }

        private void SetNumber(string member, string option, long value)
        {
            string text = value.ToString(CultureInfo.InvariantCulture);
            SetTyped(member, option, text, "value", text);
        }

        // ---- Helpers --------------------------------------------------------------------------

        /// <summary>The handle for a call; throws if the client was disposed of. A Dispose that races
        /// past this check is harmless: the marshaller either refuses the closed handle
        /// (ObjectDisposedException) or holds a reference on it until the call returns.</summary>
        private IcdClientHandle Live()
        {
            if (Volatile.Read(ref disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(IcdClient));
            }
            return handle;
        }

        /// <summary>A _with call: the query parameters in unmanaged memory for the call's duration.</summary>
        private string WithParameters(byte[] argument, IDictionary<string, string> parameters,
            Func<IcdClientHandle, byte[], IntPtr[], IntPtr> call)
        {
            using (var native = new NativeParameters(parameters))
            {
                return Taken(call(Live(), argument, native.Array));
            }
        }

        /// <summary>Turns a returned char* into a string and frees it, or throws the last error.</summary>
        private static string Taken(IntPtr text)
        {
            if (text == IntPtr.Zero)
            {
                throw IcdException.FromLastError();
            }
            try
            {
                return Utf8.Decode(text);
            }
            finally
            {
                Native.icd_free_string(text);
            }
        }
    }
}
