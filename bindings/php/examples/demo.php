<?php
/*
 * The demo job in PHP: search "cholera" (plain titles: highlightingEnabled=false), take the first
 * code, print its code info and its title in English and French (entityByCode).
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

    // highlightingEnabled=false: plain titles, without <em class='found'> marks.
    $found = $icd->searchArray('cholera', ['highlightingEnabled' => false]);
    $hit = $found['destinationEntities'][0] ?? null;
    if ($hit === null) {
        fwrite(STDERR, "PHP: no search result for \"cholera\"\n");
        exit(1);
    }
    $code = $hit['theCode'];
    echo "PHP: search \"cholera\" -> $code ({$hit['title']})\n";

    $info = $icd->codeInfo($code);
    echo "PHP: codeinfo $code -> $info\n";

    foreach (['en', 'fr'] as $language) {
        $icd->setLanguage($language);
        $entity = $icd->entityByCodeArray($code); // code info, then its stemId, in one call
        echo "PHP: title $language: {$entity['title']['@value']}\n";
    }
} catch (IcdException $e) {
    // A search the API could not run is IcdException::API; an unknown code HTTP 404.
    fwrite(STDERR, sprintf("PHP: failed: %s (status %s, HTTP %d)\n", $e->getMessage(), $e->getStatusName(), $e->getHttpStatus()));
    exit(1);
}
