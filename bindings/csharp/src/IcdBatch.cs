// The result of IcdClient.GetMany: one item per path or URI, in order.

using System;
using System.Collections;
using System.Collections.Generic;

namespace IcdApi
{
    /// <summary>The outcome of one path or URI of <see cref="IcdClient.GetMany"/>.</summary>
    public sealed class IcdBatchItem
    {
        internal IcdBatchItem(int index, string pathOrUri, IcdStatus status, int httpStatus, string body)
        {
            Index = index;
            PathOrUri = pathOrUri;
            Status = status;
            HttpStatus = httpStatus;
            Body = body;
        }

        /// <summary>The position of the item in the batch, from 0.</summary>
        public int Index { get; }

        /// <summary>The path or URI as it was given (possibly null).</summary>
        public string PathOrUri { get; }

        /// <summary><see cref="IcdStatus.Ok"/>, or what kind of failure this item had.</summary>
        public IcdStatus Status { get; }

        /// <summary>
        /// The HTTP status of the last answer to this item: 200 when it succeeded, for example 404
        /// (with <see cref="IcdStatus.Http"/>) for an unknown code or 503 for a server that is
        /// unavailable, and 0 when no answer came (the item was refused before any request — null,
        /// not representable in C, another host — or the network failed).
        /// </summary>
        /// <remarks>Tells "no such code" (404) from "try again later" (429, 5xx, 0 with
        /// <see cref="IcdStatus.Network"/> or <see cref="IcdStatus.Timeout"/>) for every item.</remarks>
        public int HttpStatus { get; }

        /// <summary>True when <see cref="Status"/> is <see cref="IcdStatus.Ok"/>.</summary>
        public bool Succeeded => Status == IcdStatus.Ok;

        /// <summary>The JSON text of the answer; null unless the item succeeded.</summary>
        public string Body { get; }

        /// <summary>"[index] status path", with " (HTTP n)" after the status when there was an
        /// answer and the item failed.</summary>
        /// <returns>A short description, for logs.</returns>
        public override string ToString() =>
            "[" + Index + "] " + Status + (!Succeeded && HttpStatus != 0 ? " (HTTP " + HttpStatus + ")" : "") + " " + (PathOrUri ?? "(null)");
    }

    /// <summary>
    /// The items of one <see cref="IcdClient.GetMany"/> call, in the order of the paths given, and
    /// the error of the first item that failed.
    /// </summary>
    /// <remarks>
    /// Every item has its <see cref="IcdBatchItem.Status"/> and its
    /// <see cref="IcdBatchItem.HttpStatus"/>; the native library gives the error
    /// <em>message</em> of the first failed item only (<see cref="FirstError"/>).
    /// </remarks>
    public sealed class IcdBatchResult : IReadOnlyList<IcdBatchItem>
    {
        private readonly IcdBatchItem[] items;

        internal IcdBatchResult(IcdBatchItem[] items, int succeededCount, IcdException firstError)
        {
            this.items = items;
            SucceededCount = succeededCount;
            FirstError = firstError;
        }

        /// <summary>The number of items.</summary>
        public int Count => items.Length;

        /// <summary>The item at a position, from 0.</summary>
        /// <param name="index">The position of the path or URI in the batch.</param>
        /// <returns>The item.</returns>
        public IcdBatchItem this[int index] => items[index];

        /// <summary>How many items succeeded.</summary>
        public int SucceededCount { get; }

        /// <summary>True when every item succeeded (also for an empty batch).</summary>
        public bool AllSucceeded => SucceededCount == items.Length;

        /// <summary>
        /// The failure of the first item that failed, or null when all succeeded. Its message
        /// starts with "item N: " (N its index) and its <see cref="IcdException.HttpStatus"/> is
        /// that item's HTTP status (for example 404 with <see cref="IcdStatus.Http"/>).
        /// </summary>
        public IcdException FirstError { get; }

        /// <summary>Throws <see cref="FirstError"/> if an item failed.</summary>
        /// <returns>This result, for chaining.</returns>
        /// <exception cref="IcdException">An item failed; the message names it.</exception>
        public IcdBatchResult EnsureAllSucceeded()
        {
            if (FirstError != null)
            {
                throw FirstError;
            }
            return this;
        }

        /// <summary>The bodies in order, null for the items that failed.</summary>
        /// <returns>A new array of <see cref="Count"/> elements.</returns>
        public string[] Bodies()
        {
            var bodies = new string[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                bodies[i] = items[i].Body;
            }
            return bodies;
        }

        /// <summary>Enumerates the items in order.</summary>
        /// <returns>An enumerator.</returns>
        public IEnumerator<IcdBatchItem> GetEnumerator() => ((IEnumerable<IcdBatchItem>)items).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => items.GetEnumerator();
    }
}
