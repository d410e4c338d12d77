/*
 * TEST-ONLY stand-in for bcryptprimitives.dll, for running under Wine 8 (Debian 12), which lacks it.
 * Rust's standard library (1.78 on) takes its random numbers (HashMap seeds) from
 * bcryptprimitives.dll!ProcessPrng, which every Windows 10 and later has; Wine added it in 9.x.
 * tests/platforms/run.sh builds this with mingw-w64 and puts it beside the test program only:
 * it is never shipped (target/dist holds no such file), and on Windows the system's own is used.
 * It answers from BCryptGenRandom, the system RNG that Wine 8 does implement.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x40000000u ? 0x40000000u : (ULONG)length;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
