<?php
/*
 * The demo job in PHP: search "cholera", take the first code, print its code info and its title
 * in English and French.
 *
 *   ICD_CLIENT_ID=... ICD_CLIENT_SECRET=... php examples/demo.php
 *
 * Credentials come from ICD_CLIENT_ID / ICD_CLIENT_SECRET (register at https://icd.who.int/icdapi);
 * ICD_API_BASE / ICD_TOKEN_ENDPOINT redirect it to another server, such as the local stand-in.
 * The library is found through ICDAPI_LIB, or next to this package (see README.md).
 */

declare(strict_types=1);

use IcdApi\Client;
use IcdApi\IcdException;

$autoload = __DIR__ . '/../vendor/autoload.php';
require is_file($autoload) ? $autoload : __DIR__ . '/../tests/bootstrap.php';

try {
    $icd = Client::cloud(); // credentials from the environment

    $found = $icd->searchArray('cholera');
    $hit = $found['destinationEntities'][0] ?? null;
    if ($hit === null) {
        fwrite(STDERR, 'PHP: no search result: ' . ($found['errorMessage'] ?? 'none') . "\n");
        exit(1);
    }
    $code = $hit['theCode'];
    echo "PHP: search \"cholera\" -> $code\n";

    $info = $icd->codeInfo($code);
    echo "PHP: codeinfo $code -> $info\n";
    $stemId = json_decode($info, true, 512, JSON_THROW_ON_ERROR)['stemId'];

    foreach (['en', 'fr'] as $language) {
        $icd->setLanguage($language);
        $entity = $icd->getArray($stemId); // an http://id.who.int/... URI, rewritten to the API
        echo "PHP: title $language: {$entity['title']['@value']}\n";
    }
} catch (IcdException $e) {
    fwrite(STDERR, sprintf("PHP: failed: %s (status %s, HTTP %d)\n", $e->getMessage(), $e->getStatusName(), $e->getHttpStatus()));
    exit(1);
}
