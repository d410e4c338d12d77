<?php
// The benchmark job from PHP, one request per "page": N GETs of distinct entities, each as a PHP
// page would make it.
//
//   php -d ffi.enable=1 php_client.php N BASE_URL MODE
//
// MODE:
//   icdapi  a client of the PHP binding per request (IcdApi\Client::cloud, options, get, freed);
//           the token and the connections are the process's, shared by the clients
//   icdapi-one  one client of the PHP binding for all N requests (the long-lived baseline)
//   curl    PHP curl, the token once, then a fresh curl handle per GET
//   who     the WHO sample: a token request and the GET, each with a fresh curl handle, per GET
//
// Environment: BENCH_CA_FILE (the CA to trust), ICDAPI_LIB (the library). Prints one line of
// key=value pairs, like the C clients.

declare(strict_types=1);

require __DIR__ . '/../bindings/php/src/IcdException.php';
require __DIR__ . '/../bindings/php/src/FFI.php';
require __DIR__ . '/../bindings/php/src/Client.php';

[$_, $n, $base, $mode] = $argv + [null, '0', '', 'icdapi'];
$n = (int) $n;
$ca = getenv('BENCH_CA_FILE') ?: '';
const FIRST_ENTITY_ID = 1000000000;

function curl_request(string $url, string $ca, array $headers, ?string $form): string
{
    $curl = curl_init($url);
    curl_setopt_array($curl, [CURLOPT_RETURNTRANSFER => true, CURLOPT_HTTPHEADER => $headers,
        CURLOPT_USERAGENT => 'bench-php-curl']);
    if ($ca !== '') {
        curl_setopt($curl, CURLOPT_CAINFO, $ca);
    }
    if ($form !== null) {
        curl_setopt($curl, CURLOPT_POSTFIELDS, $form);
    }
    $body = curl_exec($curl);
    $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    if ($body === false || $status !== 200) {
        fwrite(STDERR, "php_client: $url: " . curl_error($curl) . " HTTP $status\n");
        exit(1);
    }
    curl_close($curl);
    return $body;
}

function token(string $base, string $ca): string
{
    $form = 'grant_type=client_credentials&scope=icdapi_access&client_id=bench&client_secret=bench';
    return json_decode(curl_request("$base/connect/token", $ca, [], $form), true)['access_token'];
}

$t0 = hrtime(true);
$r0 = getrusage();
$bytes = 0;
function icdapi_client(string $base, string $ca): IcdApi\Client
{
    $client = IcdApi\Client::cloud('bench', 'bench');
    $client->setApiBase($base);
    $client->setTokenEndpoint("$base/connect/token");
    $client->setOption('cache_entries', '0');
    if ($ca !== '') {
        $client->setOption('ca_file', $ca);
    }
    return $client;
}

$token = $mode === 'curl' ? token($base, $ca) : '';
$one = $mode === 'icdapi-one' ? icdapi_client($base, $ca) : null;
for ($i = 0; $i < $n; $i++) {
    $path = '/icd/release/11/2026-01/mms/' . (FIRST_ENTITY_ID + $i);
    if ($one !== null) {
        $bytes += strlen($one->get($path));
        continue;
    }
    if ($mode === 'icdapi') {
        $client = icdapi_client($base, $ca);
        $bytes += strlen($client->get($path));
        unset($client);
        continue;
    }
    if ($mode === 'who') {
        $token = token($base, $ca);
    }
    $headers = ["Authorization: Bearer $token", 'Accept: application/json', 'Accept-Language: en', 'API-Version: v2'];
    $bytes += strlen(curl_request($base . $path, $ca, $headers, null));
}
$wall = (hrtime(true) - $t0) / 1000;
$r1 = getrusage();
$cpu = ($r1['ru_utime.tv_sec'] - $r0['ru_utime.tv_sec'] + $r1['ru_stime.tv_sec'] - $r0['ru_stime.tv_sec']) * 1e6
    + ($r1['ru_utime.tv_usec'] - $r0['ru_utime.tv_usec'] + $r1['ru_stime.tv_usec'] - $r0['ru_stime.tv_usec']);
printf("client=php-%s requests=%d wall_us=%.0f cpu_us=%.0f bytes=%d\n", $mode, $n, $wall, $cpu, $bytes);
