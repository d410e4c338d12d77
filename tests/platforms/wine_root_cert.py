"""Writes a .reg file (for `wine regedit /S`) that puts a PEM certificate into the machine-wide
root store of a Wine prefix, HKLM\\Software\\Microsoft\\SystemCertificates\\Root, as an
administrator's `certutil -addstore Root ca.pem` would on Windows: a value "Blob" under the
certificate's SHA-1 thumbprint, holding the certificate serialized as crypt32 stores it (a
property header: property id CERT_CERT_PROP_ID = 32, 1, the length; then the DER bytes).

Usage: python3 wine_root_cert.py ca.pem > root-ca.reg
"""

import base64
import hashlib
import re
import struct
import sys

CERT_CERT_PROP_ID = 32


def main() -> None:
    pem = open(sys.argv[1], encoding="ascii").read()
    found = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
    if not found:
        sys.exit("wine_root_cert.py: no PEM certificate in %s" % sys.argv[1])
    der = base64.b64decode("".join(found.group(1).split()))
    blob = struct.pack("<III", CERT_CERT_PROP_ID, 1, len(der)) + der
    thumbprint = hashlib.sha1(der).hexdigest().upper()
    hex_bytes = ",".join("%02x" % b for b in blob)
    # regedit's lines continue with a backslash; 25 bytes a line keeps them short.
    lines = [hex_bytes[i : i + 75] for i in range(0, len(hex_bytes), 75)]
    print("REGEDIT4\n")
    print("[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\SystemCertificates\\Root\\Certificates\\%s]" % thumbprint)
    print('"Blob"=hex:' + "\\\n  ".join(lines))


if __name__ == "__main__":
    main()
