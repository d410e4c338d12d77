// Answers read without a JSON library: IcdJson wraps the native JSON documents (icd_json_*), so
// that a program on Mono — which has no JSON library — or on any .NET reads an answer with JSON
// Pointers, JSON-LD titles included.

using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace IcdApi
{
    /// <summary>The JSON type of a value, as <see cref="IcdJson.Type"/> tells it.</summary>
    public enum IcdJsonType
    {
        /// <summary>The pointer names no value.</summary>
        Missing = 0,

        /// <summary>JSON null.</summary>
        Null = 1,

        /// <summary>true or false.</summary>
        Bool = 2,

        /// <summary>A number.</summary>
        Number = 3,

        /// <summary>A string.</summary>
        String = 4,

        /// <summary>An array.</summary>
        Array = 5,

        /// <summary>An object, JSON-LD language-tagged values (<c>{"@language": "en", "@value": "Cholera"}</c>) included.</summary>
        Object = 6,
    }

    /// <summary>
    /// A parsed JSON document — an answer of <see cref="IcdClient"/> — read with JSON Pointers
    /// (RFC 6901): <c>doc.String("/destinationEntities/0/theCode")</c>.
    /// </summary>
    /// <remarks>
    /// <para>A pointer is "" for the whole document, or a path of member names and array indices
    /// each after a '/': "/destinationEntities/0/title". In a member name, "~1" stands for '/' and
    /// "~0" for '~'. An array index with a leading zero ("01"), or "-", names nothing.</para>
    /// <para>A JSON-LD language-tagged value — an object with a string "@value", as every title and
    /// definition of the API is (<c>{"@language": "en", "@value": "Cholera"}</c>) — counts as that
    /// string for <see cref="String"/>: <c>entity.String("/title")</c> gives "Cholera". Strings come
    /// back unescaped ("\u00e9" is "é").</para>
    /// <para>A value that is missing, or of another type, is not an error: <see cref="String"/>,
    /// <see cref="Number"/> and <see cref="Bool"/> return null and <see cref="Count"/> 0. A pointer
    /// that is not one (it neither is "" nor starts with '/', or has a '~' not followed by '0' or
    /// '1') throws <see cref="IcdException"/> with <see cref="IcdStatus.InvalidArgument"/>.</para>
    /// <para>Threads: the document is immutable; any number of threads may read it at once.
    /// <see cref="Dispose"/> frees the native document — after the reads under way, if any, have
    /// returned — and every later read throws <see cref="ObjectDisposedException"/>. A document
    /// you forget to dispose of is freed by its finalizer.</para>
    /// </remarks>
    public sealed class IcdJson : IDisposable
    {
        private readonly IcdJsonHandle handle;

        // Set by Dispose. The handle alone cannot tell: while a read on another thread still holds a
        // reference, a disposed SafeHandle is not yet closed.
        private int disposed;

        private IcdJson(IcdJsonHandle handle)
        {
            this.handle = handle;
        }

        /// <summary>Parses a JSON text, such as an answer of <see cref="IcdClient"/>.</summary>
        /// <param name="json">The JSON text.</param>
        /// <returns>A document to read, and to dispose of.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="json"/> has a NUL character or a lone surrogate.</exception>
        /// <exception cref="IcdException"><see cref="IcdStatus.Parse"/>: not JSON; the message says at
        /// which line and column.</exception>
        /// <exception cref="DllNotFoundException">The native library icdapi cannot be found; the
        /// message says what was looked for and what to do.</exception>
        public static IcdJson Parse(string json)
        {
            byte[] text = Utf8.Encode(json, nameof(json));
            Loader.EnsureLoaded();
            IcdJsonHandle parsed = Native.icd_json_parse(text);
            if (parsed.IsInvalid)
            {
                IcdException error = IcdException.FromLastError();
                parsed.Dispose();
                throw error;
            }
            return new IcdJson(parsed);
        }

        /// <summary>The string that <paramref name="pointer"/> names, or the "@value" of a JSON-LD
        /// language-tagged value; null when there is none (missing, another type, or a string
        /// holding U+0000).</summary>
        /// <param name="pointer">A JSON Pointer, such as "/title" or "/destinationEntities/0/theCode".</param>
        /// <returns>The string, unescaped, or null.</returns>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: a malformed pointer.</exception>
        /// <exception cref="ObjectDisposedException">The document was disposed of.</exception>
        public string String(string pointer) => Read(pointer, (doc, p) =>
        {
            IntPtr text = Native.icd_json_string(doc, p);
            if (text == IntPtr.Zero)
            {
                ThrowIfFailed();
                return null;
            }
            // Borrowed from the document: decoded while the reference holds it alive.
            return Utf8.Decode(text);
        });

        /// <summary>The number of elements of the array, or members of the object, that
        /// <paramref name="pointer"/> names; 0 for anything else or nothing.</summary>
        /// <param name="pointer">A JSON Pointer, such as "/destinationEntities".</param>
        /// <returns>The count, or 0.</returns>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: a malformed pointer.</exception>
        /// <exception cref="ObjectDisposedException">The document was disposed of.</exception>
        /// <exception cref="OverflowException">More than int.MaxValue elements.</exception>
        public int Count(string pointer) => Read(pointer, (doc, p) =>
        {
            ulong count = Native.icd_json_count(doc, p).ToUInt64();
            if (count == 0)
            {
                ThrowIfFailed();
            }
            return checked((int)count);
        });

        /// <summary>The number that <paramref name="pointer"/> names (integers beyond 2^53 lose
        /// precision), or null when it names no number.</summary>
        /// <param name="pointer">A JSON Pointer, such as "/destinationEntities/0/score".</param>
        /// <returns>The number, or null.</returns>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: a malformed pointer.</exception>
        /// <exception cref="ObjectDisposedException">The document was disposed of.</exception>
        public double? Number(string pointer) => Read(pointer, (doc, p) =>
        {
            double value;
            if (Native.icd_json_number(doc, p, out value) != 0)
            {
                return value;
            }
            ThrowIfFailed();
            return (double?)null;
        });

        /// <summary>The boolean that <paramref name="pointer"/> names, or null when it names no
        /// boolean.</summary>
        /// <param name="pointer">A JSON Pointer, such as "/error".</param>
        /// <returns>true, false, or null.</returns>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: a malformed pointer.</exception>
        /// <exception cref="ObjectDisposedException">The document was disposed of.</exception>
        public bool? Bool(string pointer) => Read(pointer, (doc, p) =>
        {
            int value;
            if (Native.icd_json_bool(doc, p, out value) != 0)
            {
                return value != 0;
            }
            ThrowIfFailed();
            return (bool?)null;
        });

        /// <summary>The JSON type of the value that <paramref name="pointer"/> names:
        /// <see cref="IcdJsonType.Missing"/> when it names nothing. Tells a missing value from a
        /// null one, and a string that <see cref="String"/> cannot return (one holding U+0000).</summary>
        /// <param name="pointer">A JSON Pointer.</param>
        /// <returns>The type.</returns>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/>: a malformed pointer.</exception>
        /// <exception cref="ObjectDisposedException">The document was disposed of.</exception>
        public IcdJsonType Type(string pointer) => Read(pointer, (doc, p) =>
        {
            IcdJsonType type = Native.icd_json_type(doc, p);
            if (type == IcdJsonType.Missing)
            {
                ThrowIfFailed();
            }
            return type;
        });

        /// <summary>Frees the native document. Idempotent; safe while other threads read it (it is
        /// freed when the last of those reads returns).</summary>
        public void Dispose()
        {
            Interlocked.Exchange(ref disposed, 1);
            handle.Dispose();
        }

        /// <summary>Runs one native read with the document held alive — for the call and for the
        /// decoding of what it lent — and the pointer as UTF-8.</summary>
        private T Read<T>(string pointer, Func<IntPtr, byte[], T> read)
        {
            byte[] p = Utf8.Encode(pointer, nameof(pointer));
            bool added = false;
            try
            {
                return read(AddRef(ref added), p);
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }

        /// <summary>Holds the document alive for a read and returns its native pointer; the caller
        /// releases the reference when <paramref name="added"/> is true.</summary>
        private IntPtr AddRef(ref bool added)
        {
            if (Volatile.Read(ref disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(IcdJson));
            }
            try
            {
                handle.DangerousAddRef(ref added);
            }
            catch (ObjectDisposedException)
            {
                // Disposed between the check and here.
                throw new ObjectDisposedException(nameof(IcdJson));
            }
            return handle.DangerousGetHandle();
        }

        /// <summary>After a read that found nothing: was it a malformed pointer? The native last
        /// error tells, on this thread, straight after the call.</summary>
        private static void ThrowIfFailed()
        {
            if (Native.icd_last_error_code() != IcdStatus.Ok)
            {
                throw IcdException.FromLastError();
            }
        }
    }

    /// <summary>
    /// Owns one native <c>IcdJson*</c> document: freed exactly once, after the last read that holds
    /// a reference has returned, also when the owner forgot to dispose (critical finalizer).
    /// </summary>
    internal sealed class IcdJsonHandle : SafeHandle
    {
        // Used by the marshaller, which creates the handle for icd_json_parse's return value.
        public IcdJsonHandle()
            : base(IntPtr.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            Native.icd_json_free(handle);
            return true;
        }
    }
}
