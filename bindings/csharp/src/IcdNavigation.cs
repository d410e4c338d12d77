// The 0.3 navigation of the C# binding: Describe, Releases, the hierarchy with titles (Parents,
// Children, Ancestors) and WHO's ICD-10 <-> ICD-11 mapping tables (MapIcd10ToIcd11,
// MapIcd11ToIcd10, SetMappingTables). The rest of IcdClient is in IcdClient.cs.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace IcdApi
{
    public sealed partial class IcdClient
    {
        /// <summary>What the API knows of a code, a URI or a postcoordinated combination
        /// (/icd/release/11/{release}/{linearization}/describe): code=, or uri= for an argument
        /// starting with http:// or https://.</summary>
        /// <param name="codeOrUri">A code ("1A00", "1A00&amp;XN8P1") or a Foundation or
        /// linearization URI.</param>
        /// <returns>The JSON answer (code, linearizationUri, foundationUri, label, stemCode, ...).</returns>
        /// <exception cref="ArgumentNullException"><paramref name="codeOrUri"/> is null.</exception>
        /// <exception cref="IcdException">The call failed: <see cref="IcdStatus.Http"/> 404 for an
        /// unknown code; <see cref="IcdStatus.InvalidArgument"/> for an empty argument.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Describe(string codeOrUri) =>
            Taken(NativeNavigation.icd_describe(Live(), Utf8.Encode(codeOrUri, nameof(codeOrUri)), null));

        /// <summary><see cref="Describe(string)"/> with query parameters after code or uri
        /// (simplify, flexiblemode, convertToTerminalCodes).</summary>
        /// <param name="codeOrUri">As for <see cref="Describe(string)"/>.</param>
        /// <param name="parameters">As for <see cref="Get(string, IDictionary{string, string})"/>.</param>
        /// <returns>The JSON answer.</returns>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException">As for <see cref="Get(string, IDictionary{string, string})"/>.</exception>
        /// <exception cref="IcdException">As for <see cref="Describe(string)"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Describe(string codeOrUri, IDictionary<string, string> parameters) =>
            WithParameters(Utf8.Encode(codeOrUri, nameof(codeOrUri)), parameters, NativeNavigation.icd_describe);

        /// <summary>The releases the API serves for the client's linearization
        /// (/icd/release/11/{linearization}): "release", "latestRelease". <see cref="SetRelease"/>
        /// also takes "latest", the newest of them.</summary>
        /// <returns>The JSON answer, as the API gives it.</returns>
        /// <exception cref="IcdException">The call failed.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Releases() => Taken(NativeNavigation.icd_releases(Live()));

        /// <summary>The parents of an entity, with their titles in the client's language: a JSON
        /// array of {"uri", "code", "title", "classKind"} that the library builds, the details
        /// fetched concurrently. A chapter has none.</summary>
        /// <param name="codeOrUri">A code (a postcoordinated one stands for its stem), or an
        /// entity URI or path as <see cref="Get(string)"/> takes it.</param>
        /// <returns>The JSON array.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="codeOrUri"/> is null.</exception>
        /// <exception cref="IcdException">The call failed: <see cref="IcdStatus.Http"/> 404 for an
        /// unknown code or URI.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Parents(string codeOrUri) =>
            Taken(NativeNavigation.icd_parents(Live(), Utf8.Encode(codeOrUri, nameof(codeOrUri))));

        /// <summary>The children of an entity, in the API's order, as <see cref="Parents"/> gives
        /// them ("[]" for a leaf).</summary>
        /// <param name="codeOrUri">As for <see cref="Parents"/>.</param>
        /// <returns>The JSON array.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="codeOrUri"/> is null.</exception>
        /// <exception cref="IcdException">As for <see cref="Parents"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Children(string codeOrUri) =>
            Taken(NativeNavigation.icd_children(Live(), Utf8.Encode(codeOrUri, nameof(codeOrUri))));

        /// <summary>The ancestors of an entity up to its chapter, nearest first, each once (an
        /// entity may have several parents), as <see cref="Parents"/> gives them.</summary>
        /// <param name="codeOrUri">As for <see cref="Parents"/>.</param>
        /// <returns>The JSON array.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="codeOrUri"/> is null.</exception>
        /// <exception cref="IcdException">As for <see cref="Parents"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string Ancestors(string codeOrUri) =>
            Taken(NativeNavigation.icd_ancestors(Live(), Utf8.Encode(codeOrUri, nameof(codeOrUri))));

        /// <summary>ICD-10 to ICD-11 through WHO's mapping tables, without the network: a JSON
        /// array, one object per row of the "one" and then the "multiple" table that maps the code
        /// ("table", the table's columns, "icd11Uri", "foundationUri"); "[]" when none does.
        /// The tables come from <see cref="SetMappingTables"/>.</summary>
        /// <param name="icd10Code">An ICD-10 code such as "A00.0" (case and blanks ignored).</param>
        /// <returns>The JSON array.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="icd10Code"/> is null.</exception>
        /// <exception cref="IcdException"><see cref="IcdStatus.InvalidArgument"/> when no mapping
        /// tables were set (the message says where WHO publishes them); <see cref="IcdStatus.Parse"/>
        /// when they cannot be read or lack a table or column (named in the message).</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string MapIcd10ToIcd11(string icd10Code) =>
            Taken(NativeNavigation.icd_map_icd10_to_icd11(Live(), Utf8.Encode(icd10Code, nameof(icd10Code))));

        /// <summary>ICD-11 to ICD-10 through WHO's 11To10 table, as <see cref="MapIcd10ToIcd11"/>.</summary>
        /// <param name="icd11Code">An ICD-11 code such as "1A00".</param>
        /// <returns>The JSON array.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="icd11Code"/> is null.</exception>
        /// <exception cref="IcdException">As for <see cref="MapIcd10ToIcd11"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed of.</exception>
        public string MapIcd11ToIcd10(string icd11Code) =>
            Taken(NativeNavigation.icd_map_icd11_to_icd10(Live(), Utf8.Encode(icd11Code, nameof(icd11Code))));

        /// <summary>Where WHO's mapping tables are: the mapping.zip of a release
        /// (https://icdcdn.who.int/static/releasefiles/{release}/mapping.zip) or the directory it
        /// was unpacked into; "" turns them off. Each table is read once per path and process, on
        /// first use.</summary>
        /// <param name="path">The zip file or directory, or "".</param>
        public void SetMappingTables(string path) =>
            SetTyped(nameof(SetMappingTables), "mapping_tables", path, nameof(path));
    }

    /// <summary>The native functions of the navigation calls (see <see cref="Native"/>).</summary>
    internal static class NativeNavigation
    {
        private const string Library = "icdapi";

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_describe(IcdClientHandle client, byte[] codeOrUri, [In] IntPtr[] parameters);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_releases(IcdClientHandle client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_parents(IcdClientHandle client, byte[] codeOrUri);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_children(IcdClientHandle client, byte[] codeOrUri);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_ancestors(IcdClientHandle client, byte[] codeOrUri);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_map_icd10_to_icd11(IcdClientHandle client, byte[] icd10Code);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl, ExactSpelling = true)]
        internal static extern IntPtr icd_map_icd11_to_icd10(IcdClientHandle client, byte[] icd11Code);
    }
}
