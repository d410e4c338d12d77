// The asynchronous calls of the C# binding: Task<string> over icd_start/icd_cancel, with no .NET
// thread waiting while a call runs (the native library's own threads make the calls).

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace IcdApi
{
    public sealed partial class IcdClient
    {
        // ---- Calls that do not block a thread -------------------------------------------------
        // Each ...Async method starts the native call (icd_start) and returns its task at once. The
        // native library calls back, on one of its own threads, the one static delegate below,
        // which completes the task; continuations never run on that thread
        // (RunContinuationsAsynchronously). A CancellationToken cancels the native call
        // (icd_cancel); Dispose cancels every call still running (their tasks fail with
        // IcdStatus.Cancelled).

        /// <summary>Starts <see cref="Get(string)"/> without blocking a thread.</summary>
        /// <param name="pathOrUri">As for <see cref="Get(string)"/>.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON text of the answer; it fails with <see cref="IcdException"/>
        /// as the synchronous call would throw.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="pathOrUri"/> is null.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public Task<string> GetAsync(string pathOrUri, CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.Get, Utf8.Encode(pathOrUri, nameof(pathOrUri)), null, cancellationToken);

        /// <summary>Starts <see cref="Get(string, IDictionary{string, string})"/> without blocking a thread.</summary>
        /// <param name="pathOrUri">As for <see cref="Get(string)"/>.</param>
        /// <param name="parameters">As for <see cref="Get(string, IDictionary{string, string})"/>.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON text of the answer.</returns>
        public Task<string> GetAsync(string pathOrUri, IDictionary<string, string> parameters,
            CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.Get, Utf8.Encode(pathOrUri, nameof(pathOrUri)), Required(parameters), cancellationToken);

        /// <summary>Starts <see cref="Search(string)"/> without blocking a thread.</summary>
        /// <param name="query">As for <see cref="Search(string)"/>.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON search result (a search the API could not run fails it with
        /// <see cref="IcdStatus.Api"/>).</returns>
        public Task<string> SearchAsync(string query, CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.Search, Utf8.Encode(query, nameof(query)), null, cancellationToken);

        /// <summary>Starts <see cref="Search(string, IDictionary{string, string})"/> without blocking a thread.</summary>
        /// <param name="query">As for <see cref="Search(string)"/>.</param>
        /// <param name="parameters">More query parameters after q.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON search result.</returns>
        public Task<string> SearchAsync(string query, IDictionary<string, string> parameters,
            CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.Search, Utf8.Encode(query, nameof(query)), Required(parameters), cancellationToken);

        /// <summary>Starts <see cref="Autocode(string)"/> without blocking a thread.</summary>
        /// <param name="text">The diagnostic text.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON autocoding result.</returns>
        public Task<string> AutocodeAsync(string text, CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.Autocode, Utf8.Encode(text, nameof(text)), null, cancellationToken);

        /// <summary>Starts <see cref="Autocode(string, IDictionary{string, string})"/> without blocking a thread.</summary>
        /// <param name="text">The diagnostic text.</param>
        /// <param name="parameters">More query parameters after searchText.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON autocoding result.</returns>
        public Task<string> AutocodeAsync(string text, IDictionary<string, string> parameters,
            CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.Autocode, Utf8.Encode(text, nameof(text)), Required(parameters), cancellationToken);

        /// <summary>Starts <see cref="CodeInfo(string)"/> without blocking a thread.</summary>
        /// <param name="code">An ICD-11 code such as "1A00".</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON code information (an unknown code fails it with
        /// <see cref="IcdStatus.Http"/> 404).</returns>
        public Task<string> CodeInfoAsync(string code, CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.CodeInfo, Utf8.Encode(code, nameof(code)), null, cancellationToken);

        /// <summary>Starts <see cref="CodeInfo(string, IDictionary{string, string})"/> without blocking a thread.</summary>
        /// <param name="code">An ICD-11 code such as "1A00".</param>
        /// <param name="parameters">Query parameters after the code.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the JSON code information.</returns>
        public Task<string> CodeInfoAsync(string code, IDictionary<string, string> parameters,
            CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.CodeInfo, Utf8.Encode(code, nameof(code)), Required(parameters), cancellationToken);

        /// <summary>Starts <see cref="EntityByCode(string)"/> without blocking a thread.</summary>
        /// <param name="code">An ICD-11 code, postcoordinated or not.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of the entity's JSON.</returns>
        public Task<string> EntityByCodeAsync(string code, CancellationToken cancellationToken = default(CancellationToken)) =>
            StartAsync(NativeCalls.EntityByCode, Utf8.Encode(code, nameof(code)), null, cancellationToken);

        /// <summary>Starts the DORIS call (the underlying cause of death of a certificate) without
        /// blocking a thread: the answer <see cref="IcdClient.Doris"/> gives. A misspelt field or a
        /// certificate without a cause fails the task with <see cref="IcdStatus.InvalidArgument"/>
        /// before anything is sent.</summary>
        /// <param name="certificate">The certificate's fields, name => value (sex, estimatedAge,
        /// causeOfDeathCodeA, ...), as WHO's API spells them.</param>
        /// <param name="cancellationToken">Cancels the call; its task then ends as cancelled.</param>
        /// <returns>A task of DORIS's JSON answer.</returns>
        public Task<string> DorisAsync(IDictionary<string, string> certificate,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (certificate == null)
            {
                throw new ArgumentNullException(nameof(certificate));
            }
            return StartAsync(NativeCalls.Doris, null, certificate, cancellationToken);
        }

        private static IDictionary<string, string> Required(IDictionary<string, string> parameters)
        {
            if (parameters == null)
            {
                throw new ArgumentNullException(nameof(parameters));
            }
            return parameters;
        }

        /// <summary>A call in flight: its task, and how it is cancelled.</summary>
        private sealed class Pending
        {
            internal readonly TaskCompletionSource<string> Completion =
                new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            internal CancellationToken Token;
            internal ulong CallId;
            internal CancellationTokenRegistration Registration;

            // Keeps the client from being collected (and freed by its finalizer, which would
            // cancel the call) while a call runs that nothing else refers to it for.
            internal IcdClient Owner;
        }

        /// <summary>The calls in flight of every client, by the key passed as user_data: an id
        /// rather than a GCHandle, so that nothing is pinned and a stray key finds nothing. Every
        /// path removes its entry: the callback (called exactly once per started call, also when
        /// the client is disposed of) or a start that failed.</summary>
        private static readonly ConcurrentDictionary<long, Pending> InFlight = new ConcurrentDictionary<long, Pending>();
        private static long lastKey;

        /// <summary>The one callback, kept alive for the life of the process: the native library
        /// may call it until the last call ends.</summary>
        private static readonly NativeCalls.Callback Completed = OnCompleted;

        private static int exitHandlerAdded;

        /// <summary>At exit, while the runtime still runs managed code, the clients with calls in
        /// flight are disposed of, which cancels the calls and waits for their callbacks. Left to
        /// the finalizers, the library's thread would call back into a runtime that is shutting
        /// down (Mono then never lets it return, and the process never ends).</summary>
        private static void DisposeAtExit()
        {
            if (Interlocked.Exchange(ref exitHandlerAdded, 1) == 0)
            {
                AppDomain.CurrentDomain.ProcessExit += (sender, e) =>
                {
                    foreach (IcdClient client in InFlight.Values.Select(p => p.Owner).Distinct().ToList())
                    {
                        client.Dispose();
                    }
                };
            }
        }

        private Task<string> StartAsync(int call, byte[] argument, IDictionary<string, string> parameters,
            CancellationToken cancellationToken)
        {
            IcdClientHandle live = Live();
            if (cancellationToken.IsCancellationRequested)
            {
                return Task.FromCanceled<string>(cancellationToken);
            }
            DisposeAtExit();
            long key = Interlocked.Increment(ref lastKey);
            var pending = new Pending { Token = cancellationToken, Owner = this };
            InFlight[key] = pending;
            ulong id;
            using (NativeParameters native = parameters != null ? new NativeParameters(parameters) : null)
            {
                try
                {
                    id = NativeCalls.icd_start(live, call, argument, native?.Array, Completed, new IntPtr(key));
                }
                catch
                {
                    InFlight.TryRemove(key, out pending);
                    throw;
                }
                if (id == 0)
                {
                    InFlight.TryRemove(key, out pending);
                    return Task.FromException<string>(IcdException.FromLastError());
                }
            }
            lock (pending)
            {
                pending.CallId = id;
                if (cancellationToken.CanBeCanceled && !pending.Completion.Task.IsCompleted)
                {
                    pending.Registration = cancellationToken.Register(() => Cancel(id));
                }
            }
            return pending.Completion.Task;
        }

        /// <summary>Cancels a native call; nothing to do if it ended, or the client is gone (which
        /// cancelled it already).</summary>
        private void Cancel(ulong callId)
        {
            try
            {
                NativeCalls.icd_cancel(Live(), callId);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private static void OnCompleted(IntPtr userData, IcdStatus status, IntPtr body, int httpStatus, IntPtr message)
        {
            // Nothing may unwind into the native library's thread.
            Pending pending = null;
            try
            {
                string text = null;
                if (body != IntPtr.Zero)
                {
                    try
                    {
                        text = Utf8.Decode(body);
                    }
                    finally
                    {
                        Native.icd_free_string(body);
                    }
                }
                string said = status == IcdStatus.Ok ? null : Messages.InCSharpTerms(Utf8.Decode(message));
                if (!InFlight.TryRemove(userData.ToInt64(), out pending))
                {
                    return;
                }
                lock (pending)
                {
                    pending.Registration.Dispose();
                }
                if (status == IcdStatus.Ok)
                {
                    pending.Completion.TrySetResult(text);
                }
                else if (status == IcdStatus.Cancelled && pending.Token.IsCancellationRequested)
                {
                    pending.Completion.TrySetCanceled(pending.Token);
                }
                else
                {
                    pending.Completion.TrySetException(new IcdException(status, said, httpStatus));
                }
            }
            catch (Exception e)
            {
                pending?.Completion.TrySetException(e);
            }
        }
    }

    /// <summary>icd_start and icd_cancel (include/icdapi.h).</summary>
    internal static class NativeCalls
    {
        private const string Library = "icdapi";

        // enum IcdCall.
        internal const int Get = 0, Search = 1, Autocode = 2, CodeInfo = 3, Lookup = 4, EntityByCode = 5,
            Icd10 = 6, Describe = 7, Doris = 8, CodEdit = 9;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void Callback(IntPtr userData, IcdStatus status, IntPtr body, int httpStatus, IntPtr message);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern ulong icd_start(IcdClientHandle client, int call, byte[] arg, [In] IntPtr[] parameters,
            Callback callback, IntPtr userData);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern int icd_cancel(IcdClientHandle client, ulong callId);
    }
}
