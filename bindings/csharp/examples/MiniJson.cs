// A minimal JSON reader for the demo and the tests: NOT part of the binding.
//
// Why it exists: the binding returns the API's JSON text and leaves parsing to the application.
// On modern .NET use System.Text.Json (JsonDocument.Parse) instead. This file exists only because
// the Mono installation the demo and tests are built with has neither System.Text.Json nor
// System.Runtime.Serialization nor System.Web.Extensions, and no package can be added there.
//
// It reads RFC 8259 JSON into plain objects: objects become Dictionary<string, object>, arrays
// List<object>, strings string, numbers double, true/false bool, null null. It rejects trailing
// text and malformed input with FormatException.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace IcdApi.Samples
{
    internal static class MiniJson
    {
        /// <summary>Parses a JSON document.</summary>
        public static object Parse(string json)
        {
            var reader = new Reader(json);
            object value = reader.ReadValue();
            reader.SkipWhitespace();
            if (!reader.AtEnd)
            {
                throw new FormatException("JSON: unexpected text after the document at " + reader.Position);
            }
            return value;
        }

        /// <summary>
        /// Follows a path of object keys (string) and array indexes (int); null when a step is
        /// missing or of the wrong kind. Path(doc, "destinationEntities", 0, "theCode").
        /// </summary>
        public static object Path(object node, params object[] steps)
        {
            foreach (object step in steps)
            {
                var obj = node as Dictionary<string, object>;
                var arr = node as List<object>;
                if (step is string key && obj != null && obj.TryGetValue(key, out object next))
                {
                    node = next;
                }
                else if (step is int index && arr != null && index >= 0 && index < arr.Count)
                {
                    node = arr[index];
                }
                else
                {
                    return null;
                }
            }
            return node;
        }

        /// <summary>As <see cref="Path"/>, for a string value (null if missing or not a string).</summary>
        public static string PathString(object node, params object[] steps)
        {
            return Path(node, steps) as string;
        }

        private sealed class Reader
        {
            private readonly string text;
            private int pos;

            public Reader(string text)
            {
                this.text = text ?? throw new ArgumentNullException(nameof(text));
            }

            public bool AtEnd => pos >= text.Length;

            public int Position => pos;

            public void SkipWhitespace()
            {
                while (pos < text.Length && (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
                {
                    pos++;
                }
            }

            public object ReadValue()
            {
                SkipWhitespace();
                if (AtEnd)
                {
                    throw Error("a value");
                }
                char c = text[pos];
                switch (c)
                {
                    case '{': return ReadObject();
                    case '[': return ReadArray();
                    case '"': return ReadString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                    default:
                        if (c == '-' || (c >= '0' && c <= '9'))
                        {
                            return ReadNumber();
                        }
                        throw Error("a value");
                }
            }

            private Dictionary<string, object> ReadObject()
            {
                var result = new Dictionary<string, object>(StringComparer.Ordinal);
                pos++; // '{'
                SkipWhitespace();
                if (Peek() == '}')
                {
                    pos++;
                    return result;
                }
                while (true)
                {
                    SkipWhitespace();
                    if (Peek() != '"')
                    {
                        throw Error("a member name");
                    }
                    string key = ReadString();
                    SkipWhitespace();
                    if (Peek() != ':')
                    {
                        throw Error("':'");
                    }
                    pos++;
                    result[key] = ReadValue();
                    SkipWhitespace();
                    char c = Peek();
                    pos++;
                    if (c == '}')
                    {
                        return result;
                    }
                    if (c != ',')
                    {
                        pos--;
                        throw Error("',' or '}'");
                    }
                }
            }

            private List<object> ReadArray()
            {
                var result = new List<object>();
                pos++; // '['
                SkipWhitespace();
                if (Peek() == ']')
                {
                    pos++;
                    return result;
                }
                while (true)
                {
                    result.Add(ReadValue());
                    SkipWhitespace();
                    char c = Peek();
                    pos++;
                    if (c == ']')
                    {
                        return result;
                    }
                    if (c != ',')
                    {
                        pos--;
                        throw Error("',' or ']'");
                    }
                }
            }

            private string ReadString()
            {
                pos++; // opening quote
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd)
                    {
                        throw Error("the end of a string");
                    }
                    char c = text[pos++];
                    if (c == '"')
                    {
                        return sb.ToString();
                    }
                    if (c < 0x20)
                    {
                        pos--;
                        throw Error("an escaped control character");
                    }
                    if (c != '\\')
                    {
                        sb.Append(c);
                        continue;
                    }
                    if (AtEnd)
                    {
                        throw Error("an escape");
                    }
                    char e = text[pos++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            // \uXXXX is one UTF-16 unit; a surrogate pair comes as two escapes,
                            // which StringBuilder joins back as they are.
                            if (pos + 4 > text.Length ||
                                !int.TryParse(text.Substring(pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int unit))
                            {
                                throw Error("four hex digits");
                            }
                            sb.Append((char)unit);
                            pos += 4;
                            break;
                        default:
                            pos--;
                            throw Error("a valid escape");
                    }
                }
            }

            private double ReadNumber()
            {
                int start = pos;
                if (Peek() == '-')
                {
                    pos++;
                }
                while (pos < text.Length && "0123456789.eE+-".IndexOf(text[pos]) >= 0)
                {
                    pos++;
                }
                string number = text.Substring(start, pos - start);
                if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    pos = start;
                    throw Error("a number");
                }
                return value;
            }

            private void Expect(string word)
            {
                if (string.CompareOrdinal(text, pos, word, 0, word.Length) != 0)
                {
                    throw Error("'" + word + "'");
                }
                pos += word.Length;
            }

            private char Peek()
            {
                return AtEnd ? '\0' : text[pos];
            }

            private FormatException Error(string expected)
            {
                return new FormatException("JSON: expected " + expected + " at " + pos);
            }
        }
    }
}
