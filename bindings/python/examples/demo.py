"""The demo job in Python: search "cholera", take the first code, print its code info and its
title in English and French.

    pip install ./bindings/python            # from an icdapi checkout, with cargo on the PATH
    python examples/demo.py                  # with ICD_CLIENT_ID and ICD_CLIENT_SECRET exported

Credentials come from ICD_CLIENT_ID / ICD_CLIENT_SECRET (register at https://icd.who.int/icdapi);
ICD_API_BASE / ICD_TOKEN_ENDPOINT redirect it to another server, such as the local stand-in.
"""

import json
import sys

import icdapi


def main() -> int:
    try:
        with icdapi.Client() as client:  # credentials from the environment
            # Plain titles, without the <em class='found'> marks the API adds by default.
            found = client.search("cholera", highlightingEnabled=False)
            hits = found.get("destinationEntities") or []
            if not hits:
                print("Python: no search result", file=sys.stderr)
                return 1
            code = hits[0]["theCode"]
            print('Python: search "cholera" -> %s (%s)' % (code, hits[0]["title"]))

            info = client.codeinfo(code)
            print("Python: codeinfo %s -> %s" % (code, json.dumps(info, ensure_ascii=False, separators=(",", ":"))))

            for language in ("en", "fr"):
                client.set_option("language", language)
                entity = client.entity_by_code(code)  # code info, then its stemId
                print("Python: title %s: %s" % (language, entity["title"]["@value"]))
    except icdapi.IcdError as error:
        print("Python: failed: %s (status %s, HTTP %d)" % (error, error.status.name, error.http_status),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
