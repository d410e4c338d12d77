<?php
/*
 * A page that uses icdapi under PHP-FPM: GET /?code=1A00 answers the code's title and the codes a
 * search for that title finds, as JSON. A client per request is cheap: the token (shared by the
 * workers through the token file, and by every client of a worker) and the connections to the API
 * (one pool per worker process) outlive it, and the disk cache answers what any worker asked before.
 */

declare(strict_types=1);

require __DIR__ . '/../vendor/autoload.php';

use IcdApi\Client;
use IcdApi\IcdException;

header('Content-Type: application/json; charset=utf-8');
$code = is_string($_GET['code'] ?? null) ? $_GET['code'] : '1A00';
try {
    $icd = Client::cloud();                                  // the pool's env[ICD_CLIENT_ID], ...
    $icd->setTokenCacheFile('/var/lib/icdapi-app/icd-token.json');
    $icd->setCacheDir('/var/cache/icdapi-app');
    $icd->setLanguage('en');

    $entity = $icd->entityByCodeArray($code);                // code info, then the entity
    $title = $entity['title']['@value'];
    $found = $icd->searchArray($title, ['highlightingEnabled' => false, 'flatResults' => true]);
    echo json_encode([
        'code' => $code,
        'title' => $title,
        'search' => array_map(static fn (array $hit): string => $hit['theCode'], $found['destinationEntities']),
    ], JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES), "\n";
} catch (IcdException $e) {
    http_response_code($e->getStatus() === IcdException::HTTP && $e->getHttpStatus() === 404 ? 404 : 502);
    echo json_encode(['code' => $code, 'error' => $e->getStatusName(), 'message' => $e->getMessage()]), "\n";
}
