<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\Client;
use IcdApi\IcdException;

/**
 * IcdApi\Client against the local stand-in of the WHO API, started once for the class.
 */
final class ClientTest extends StandInTestCase
{
    private const CHOLERA_ID = '257068234';

    // ---- the request methods, raw and decoded ---------------------------------------------

    /**
     * Every option of the native library has a typed setter (set + its name in camelCase): a new
     * option in the library fails this test until the binding has one.
     */
    public function testEveryOptionOfTheLibraryHasATypedSetter(): void
    {
        $names = Client::optionNames();
        $this->assertGreaterThanOrEqual(19, count($names));
        $this->assertSame('language', $names[0]);
        $missing = [];
        foreach ($names as $name) {
            $setter = 'set' . str_replace('_', '', ucwords($name, '_'));
            $method = method_exists(Client::class, $setter) ? new \ReflectionMethod(Client::class, $setter) : null;
            if ($method === null || !$method->isPublic() || $method->getNumberOfParameters() !== 1) {
                $missing[] = "$name ($setter)";
            }
        }
        $this->assertSame([], $missing, 'options without a typed setter in IcdApi\Client');
    }

    public function testSearchRawAndArray(): void
    {
        $raw = $this->client->search('cholera');
        $this->assertJson($raw);
        $this->assertSame('1A00', json_decode($raw, true)['destinationEntities'][0]['theCode']);

        $array = $this->client->searchArray('cholera');
        $this->assertFalse($array['error']);
        $this->assertSame('1A00', $array['destinationEntities'][0]['theCode']);
        $this->assertStringContainsString('/icd/release/11/2026-01/mms/search', self::$standIn->lastApiRequest()['path']);
        $this->assertSame(['q' => ['cholera']], self::$standIn->lastApiRequest()['query']);
    }

    public function testSearchTextIsEncoded(): void
    {
        $result = $this->client->searchArray('cholera & typhoid / 100% é');
        $this->assertArrayHasKey('destinationEntities', $result);
        $this->assertSame(['q' => ['cholera & typhoid / 100% é']], self::$standIn->lastApiRequest()['query']);
    }

    public function testCodeInfoRawAndArray(): void
    {
        $raw = $this->client->codeInfo('1A00');
        $this->assertSame('1A00', json_decode($raw, true)['code']);

        $info = $this->client->codeInfoArray('FB32.5');
        $this->assertSame('FB32.5', $info['code']);
        $this->assertStringStartsWith('http://id.who.int/icd/release/11/2026-01/mms/', $info['stemId']);
    }

    public function testCodeInfoOfPostcoordinatedCodeArrivesIntact(): void
    {
        $info = $this->client->codeInfoArray('1A00&XN6P4/1F4Z');
        $this->assertSame('1A00&XN6P4/1F4Z', $info['code']);
        $this->assertSame('1A00', $info['stemCode']);
        $this->assertStringEndsWith('/codeinfo/1A00%26XN6P4%2F1F4Z', self::$standIn->lastApiRequest()['target']);
    }

    public function testGetByPathByWhoUriAndByApiBaseUri(): void
    {
        $path = '/icd/release/11/2026-01/mms/' . self::CHOLERA_ID;
        $raw = $this->client->get($path);
        $this->assertSame('1A00', json_decode($raw, true)['code']);

        $byWhoUri = $this->client->getArray('http://id.who.int' . $path);
        $this->assertSame('1A00', $byWhoUri['code']);
        $this->assertSame('http://id.who.int' . $path, $byWhoUri['@id']);

        $this->client->setCacheEntries(0); // so that the next GET is seen by the stand-in
        $this->assertSame('1A00', $this->client->getArray(self::$standIn->url . $path . '?include=ancestor')['code']);
        $this->assertSame($path . '?include=ancestor', self::$standIn->lastApiRequest()['target']);
    }

    public function testFollowingTheIdOfASearchResult(): void
    {
        $hit = $this->client->searchArray('cholera')['destinationEntities'][0];
        $entity = $this->client->getArray($hit['id']);
        $this->assertSame('Cholera', $entity['title']['@value']);
    }

    public function testAutocodeRawAndArray(): void
    {
        $raw = $this->client->autocode('cholera');
        $this->assertSame('1A00', json_decode($raw, true)['theCode']);

        $array = $this->client->autocodeArray('cholera');
        $this->assertSame('1A00', $array['theCode']);
        $this->assertSame(['searchText' => ['cholera']], self::$standIn->lastApiRequest()['query']);
    }

    public function testLookupRawAndArray(): void
    {
        $foundationUri = 'http://id.who.int/icd/entity/' . self::CHOLERA_ID;
        $raw = $this->client->lookup($foundationUri);
        $this->assertSame('1A00', json_decode($raw, true)['code']);

        $array = $this->client->lookupArray($foundationUri);
        $this->assertSame('1A00', $array['code']);
        $this->assertSame(['foundationUri' => [$foundationUri]], self::$standIn->lastApiRequest()['query']);
    }

    public function testPostRawAndArray(): void
    {
        // A death certificate to the coding-edit check: an endpoint that reads a JSON body.
        $path = '/icd/release/11/2026-01/codedit';
        $raw = $this->client->post($path, '{"causes":[{"code":"1A00"}]}');
        $this->assertSame('Codes found: 1A00', json_decode($raw, true)['report']);
        $request = self::$standIn->lastApiRequest();
        $this->assertSame('POST', $request['method']);
        $this->assertSame('{"causes":[{"code":"1A00"}]}', $request['body']);

        $array = $this->client->postArray($path, ['causes' => [['code' => '1A00']]]);
        $this->assertSame('Codes found: 1A00', $array['report']);
        $this->assertSame('{"causes":[{"code":"1A00"}]}', self::$standIn->lastApiRequest()['body']);
    }

    public function testPostRefusesABodyThatIsNotJson(): void
    {
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->post('/icd/release/11/2026-01/mms/search', 'q=cholera'));
    }

    public function testTitlesInEnglishAndFrench(): void
    {
        $path = '/icd/release/11/2026-01/mms/' . self::CHOLERA_ID;
        $this->assertSame('Cholera', $this->client->getArray($path)['title']['@value']);
        $this->assertSame('en', self::$standIn->lastApiRequest()['headers']['accept-language']);

        $this->client->setLanguage('fr');
        $title = $this->client->getArray($path)['title'];
        $this->assertSame(['@language' => 'fr', '@value' => 'Choléra'], $title);
        $this->assertSame('fr', self::$standIn->lastApiRequest()['headers']['accept-language']);
        $this->assertStringContainsString('Choléra', $this->client->search('choléra'));
    }

    public function testEveryRequestCarriesTheHeadersOfTheApi(): void
    {
        $this->client->codeInfo('1A00');
        $headers = self::$standIn->lastApiRequest()['headers'];
        $this->assertMatchesRegularExpression('/^Bearer \S+$/', $headers['authorization']);
        $this->assertStringContainsString('application/json', $headers['accept']);
        $this->assertSame('v2', $headers['api-version']);
        $this->assertSame('icdapi/' . Client::version(), $headers['user-agent']);
    }

    // ---- creating clients -----------------------------------------------------------------

    public function testCloudClientFromTheEnvironment(): void
    {
        $vars = ['ICD_CLIENT_ID' => self::$standIn->clientId, 'ICD_CLIENT_SECRET' => StandIn::CLIENT_SECRET,
                 'ICD_API_BASE' => self::$standIn->url, 'ICD_TOKEN_ENDPOINT' => self::$standIn->url . '/connect/token'];
        foreach ($vars as $name => $value) {
            putenv("$name=$value");
        }
        try {
            $client = Client::cloud();
            $this->assertSame('1A00', $client->codeInfoArray('1A00')['code']);
            $this->assertSame(1, self::$standIn->stats()['tokens_issued']);
        } finally {
            foreach (array_keys($vars) as $name) {
                putenv($name);
            }
        }
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::cloud());
    }

    public function testCloudClientNeedsBothCredentials(): void
    {
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::cloud(StandIn::CLIENT_ID, null));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::cloud(null, StandIn::CLIENT_SECRET));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::cloud('', StandIn::CLIENT_SECRET));
    }

    public function testLocalClientNeedsNoToken(): void
    {
        $local = new StandIn(['--local']);
        try {
            $client = Client::local($local->url);
            $this->assertSame('1A00', $client->searchArray('cholera')['destinationEntities'][0]['theCode']);
            $this->assertArrayNotHasKey('authorization', $local->lastApiRequest()['headers']);
            $this->assertSame(0, $local->stats()['token_requests']);
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $client->setTokenEndpoint($local->url . '/connect/token'));
        } finally {
            $local->stop();
        }
    }

    public function testLocalClientRefusesABadUrl(): void
    {
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::local('ftp://127.0.0.1/'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::local('not a url'));
    }

    public function testOneTokenServesManyCalls(): void
    {
        for ($i = 0; $i < 5; $i++) {
            $this->client->search('cholera');
            $this->client->codeInfo('1A00');
            $this->client->codeInfo('1F4Z');
            $this->client->autocode('cholera');
        }
        $stats = self::$standIn->stats();
        $this->assertSame(1, $stats['tokens_issued']);
        $this->assertSame(1, $stats['token_requests']);
        $this->assertSame(0, $stats['api_401']);
    }

    public function testARevokedTokenIsReplaced(): void
    {
        $this->client->setCacheEntries(0);
        $this->client->codeInfo('1A00');
        self::$standIn->admin('POST', 'revoke');
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
        $stats = self::$standIn->stats();
        $this->assertSame(2, $stats['tokens_issued']);
        $this->assertSame(1, $stats['api_401']);
    }

    public function testAClientPerRequest(): void
    {
        $before = self::rssKiB();
        for ($i = 0; $i < 100; $i++) {
            $client = $this->cloudClient();
            $this->assertSame('1A00', $client->codeInfoArray('1A00')['code']);
            unset($client); // __destruct: icd_client_free
        }
        // Clients of one process with the same credentials share one token.
        $stats = self::$standIn->stats();
        $this->assertSame(1, $stats['tokens_issued']);
        $this->assertSame(1, $stats['token_requests']);
        $this->assertSame(100, $stats['api_requests'], 'each client has its own response cache');
        for ($i = 0; $i < 1000; $i++) {
            Client::local('http://127.0.0.1:9')->close();
        }
        $this->assertLessThan(8 * 1024, self::rssKiB() - $before, 'RSS grew by more than 8 MiB over 1100 clients');
    }

    public function testAClosedClientRefusesCalls(): void
    {
        $this->client->close();
        $this->client->close(); // twice is harmless
        $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->codeInfo('1A00'));
        $this->assertStringContainsString('closed', $e->getMessage());
    }

    public function testAClientCannotBeClonedOrSerialized(): void
    {
        try {
            $copy = clone $this->client;
            $this->fail('cloned');
        } catch (\Error $e) {
            $this->assertStringContainsString('__clone', $e->getMessage());
        }
        $this->expectException(\LogicException::class);
        serialize($this->client);
    }

    public function testVersion(): void
    {
        $cargo = (string) file_get_contents(StandIn::repoRoot() . '/Cargo.toml');
        $this->assertMatchesRegularExpression('/^version = "(\d+\.\d+\.\d+[^"]*)"/m', $cargo);
        preg_match('/^version = "([^"]+)"/m', $cargo, $m);
        $this->assertSame($m[1], Client::version());
        $header = (string) file_get_contents(StandIn::repoRoot() . '/include/icdapi.h');
        $this->assertStringContainsString('#define ICDAPI_VERSION "' . Client::version() . '"', $header);
    }

    // ---- many requests at once ------------------------------------------------------------

    /** Twenty entities of the stand-in's data set (MMS, release 2026-01). */
    private const ENTITY_IDS = [
        '1435254666', '588616678', '135352227', '257068234', '416025325', '2080365623', '344162786',
        '250688797', '1000894786', '794462570', '1528414070', '1780040028', '515117475',
        '135352227/other', '135352227/unspecified', '255141529', '1439886552', '579583286',
        '1203794080', '862789727',
    ];
    private const MMS = '/icd/release/11/2026-01/mms/';

    public function testGetManyAnswersEveryItemInOrderWithOneToken(): void
    {
        $targets = [];
        foreach (self::ENTITY_IDS as $i => $id) { // every third as an http://id.who.int URI
            $targets[] = ($i % 3 === 2 ? 'http://id.who.int' : '') . self::MMS . $id;
        }
        $results = $this->client->getMany($targets, $firstError);
        $this->assertNull($firstError);
        $this->assertSame(array_keys($targets), array_keys($results));
        foreach (self::ENTITY_IDS as $i => $id) {
            $this->assertSame(IcdException::OK, $results[$i]['status'], "item $i");
            $this->assertSame(200, $results[$i]['http_status'], "HTTP status of item $i");
            $this->assertSame('http://id.who.int' . self::MMS . $id, json_decode($results[$i]['body'], true)['@id'], "item $i");
        }
        $stats = self::$standIn->stats();
        $this->assertSame(1, $stats['tokens_issued']);
        $this->assertSame(1, $stats['token_requests']);
        $this->assertSame(count($targets), $stats['api_requests']);

        $decoded = $this->client->getManyArrays($targets); // from the response cache now
        $this->assertSame('Cholera', $decoded[3]['body']['title']['@value']);
        $this->assertSame(IcdException::OK, $decoded[19]['status']);
        $this->assertSame(200, $decoded[19]['http_status'], 'HTTP status of an answer from the cache');
        $this->assertSame(count($targets), self::$standIn->stats()['api_requests']);
    }

    public function testGetManyFailsItemsOnTheirOwnAndKeepsTheKeys(): void
    {
        $targets = [
            'cholera' => self::MMS . self::CHOLERA_ID,
            'unknown' => self::MMS . 'codeinfo/ZZ99.9',      // 404
            'foreign' => 'https://example.org/icd/entity',   // another host: never requested
            'missing' => null,                               // not requested either
            'nul' => "/icd/chol\0era",                      // C cannot carry it
            'utf8' => "/icd/chol\xffera",                   // the library refuses it
            7 => self::MMS . 'codeinfo/1A00',
        ];
        $results = $this->client->getMany($targets, $firstError);
        $this->assertSame(array_keys($targets), array_keys($results));
        $expected = ['cholera' => IcdException::OK, 'unknown' => IcdException::HTTP,
                     'foreign' => IcdException::INVALID_ARGUMENT, 'missing' => IcdException::INVALID_ARGUMENT,
                     'nul' => IcdException::INVALID_ARGUMENT, 'utf8' => IcdException::INVALID_ARGUMENT,
                     7 => IcdException::OK];
        // Every item has its own HTTP status: 0 for those never requested.
        $expectedHttp = ['cholera' => 200, 'unknown' => 404, 'foreign' => 0, 'missing' => 0, 'nul' => 0, 'utf8' => 0, 7 => 200];
        foreach ($expected as $key => $status) {
            $this->assertSame(['body', 'status', 'http_status'], array_keys($results[$key]), "keys of item $key");
            $this->assertSame($status, $results[$key]['status'], "status of $key");
            $this->assertSame($expectedHttp[$key], $results[$key]['http_status'], "HTTP status of $key");
            $this->assertSame($status === IcdException::OK, $results[$key]['body'] !== null, "body of $key");
        }
        $this->assertSame('Cholera', json_decode($results['cholera']['body'], true)['title']['@value']);
        $this->assertSame('1A00', json_decode($results[7]['body'], true)['code']);

        $this->assertInstanceOf(IcdException::class, $firstError);
        $this->assertSame(IcdException::HTTP, $firstError->getStatus());
        $this->assertSame(404, $firstError->getHttpStatus());
        $this->assertStringStartsWith('item 1: ', $firstError->getMessage());
        $this->assertStringContainsString('404', $firstError->getMessage());
        foreach (self::$standIn->log() as $request) {
            $this->assertStringNotContainsString('chol', $request['target'], 'items refused here were not requested');
        }
    }

    public function testGetManyFirstErrorIsAboutTheFirstFailedItem(): void
    {
        $results = $this->client->getMany([self::MMS . self::CHOLERA_ID, null, 'https://example.org/x'], $firstError);
        $this->assertSame(IcdException::INVALID_ARGUMENT, $firstError->getStatus());
        $this->assertSame('item 1: the path or URI is null', $firstError->getMessage());
        $this->assertSame(0, $firstError->getHttpStatus());
        $this->assertSame([200, 0, 0], array_column($results, 'http_status'));

        $results = $this->client->getMany(['https://example.org/x', self::MMS . 'codeinfo/ZZ99.9'], $firstError);
        $this->assertSame(IcdException::INVALID_ARGUMENT, $firstError->getStatus());
        $this->assertStringStartsWith('item 0: ', $firstError->getMessage());
        $this->assertSame(IcdException::HTTP, $results[1]['status']);
        $this->assertSame(0, $results[0]['http_status'], 'another host');
        $this->assertSame(404, $results[1]['http_status'], 'the 404 after it: every failed item has its own');

        self::$standIn->fault(['match' => 'codeinfo/1F4Z', 'kind' => 'non_json']);
        $results = $this->client->getManyArrays([self::MMS . 'codeinfo/1A00', self::MMS . 'codeinfo/1F4Z'], $firstError);
        $this->assertSame(['body' => null, 'status' => IcdException::PARSE, 'http_status' => 200], $results[1]);
        $this->assertSame('1A00', $results[0]['body']['code']);
        $this->assertSame(IcdException::PARSE, $firstError->getStatus());
        $this->assertStringStartsWith('item 1: ', $firstError->getMessage());

        $this->client->getMany([self::MMS . self::CHOLERA_ID], $firstError);
        $this->assertNull($firstError, 'reset by a batch that succeeded');
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code'], 'a call after batches');
    }

    public function testGetManyTellsNoSuchCodeFromTryAgainLater(): void
    {
        $this->client->setCacheEntries(0);
        $this->client->setMaxRetries(0);
        self::$standIn->fault(['match' => '/codeinfo/1A00', 'kind' => 'status', 'status' => 503, 'retry_after' => '0', 'count' => 0]);
        $results = $this->client->getManyArrays(
            ['unknown' => self::MMS . 'codeinfo/ZZ99.9', 'busy' => self::MMS . 'codeinfo/1A00', 'cholera' => self::MMS . self::CHOLERA_ID],
            $firstError
        );
        $this->assertSame(['unknown' => IcdException::HTTP, 'busy' => IcdException::HTTP, 'cholera' => IcdException::OK],
                          array_map(static fn (array $item): int => $item['status'], $results));
        $this->assertSame(['unknown' => 404, 'busy' => 503, 'cholera' => 200],
                          array_map(static fn (array $item): int => $item['http_status'], $results),
                          'no such code, try again later, success: the second failure is known too');
        $this->assertSame(404, $firstError->getHttpStatus(), 'the first failure');
    }

    public function testGetManyOfNothingOfNonStringsAndOnAClosedClient(): void
    {
        $firstError = new IcdException('stale', IcdException::HTTP);
        $this->assertSame([], $this->client->getMany([], $firstError));
        $this->assertNull($firstError);
        $this->assertSame([], $this->client->getManyArrays([]));
        try {
            $this->client->getMany(['/icd/entity', 42]);
            $this->fail('an int element was accepted');
        } catch (\TypeError $e) {
            $this->assertStringContainsString('element 1', $e->getMessage());
        }
        $this->assertSame(0, self::$standIn->stats()['token_requests']);
        $this->assertSame(0, self::$standIn->stats()['api_requests']);
        $this->client->close();
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->getMany([self::MMS . self::CHOLERA_ID]));
    }

    public function testConcurrencyBoundsTheRequestsInFlight(): void
    {
        self::$standIn->admin('POST', 'config', ['delay_ms' => 150]);
        $targets = array_map(static fn (string $id): string => self::MMS . $id, array_slice(self::ENTITY_IDS, 0, 8));
        $this->client->codeInfo('1A00'); // the token, outside the clock
        $this->client->setCacheEntries(0);

        $this->client->setConcurrency(1);
        $start = microtime(true);
        $this->client->getMany($targets, $firstError);
        $serial = microtime(true) - $start;
        $this->assertNull($firstError);
        $this->assertGreaterThanOrEqual(8 * 0.150, $serial);

        $this->client->setConcurrency(8);
        $start = microtime(true);
        $this->client->getMany($targets, $firstError);
        $parallel = microtime(true) - $start;
        $this->assertNull($firstError);
        $this->assertLessThan(4 * 0.150, $parallel, "eight at a time took {$parallel} s, one at a time {$serial} s");

        $this->client->setConcurrency(64);
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setConcurrency(0));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setConcurrency(65));
    }

    // ---- tokens shared between clients and processes ----------------------------------------

    public function testClientsCreatedAndFreedInALoopShareOneToken(): void
    {
        for ($i = 0; $i < 20; $i++) {
            $client = $this->cloudClient();
            $this->assertSame('1A00', $client->codeInfoArray('1A00')['code']);
            $client->close();
        }
        $stats = self::$standIn->stats();
        $this->assertSame(1, $stats['tokens_issued']);
        $this->assertSame(1, $stats['token_requests']);
        $this->assertSame(20, $stats['api_requests']);
    }

    public function testTokenCacheFileIsPrivate(): void
    {
        $dir = self::tempDir();
        try {
            $file = "$dir/icd-token.json";
            $this->client->setTokenCacheFile($file);
            $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
            clearstatcache();
            $this->assertFileExists($file);
            $this->assertSame('600', sprintf('%o', fileperms($file) & 0777));
            $this->assertStringNotContainsString(StandIn::CLIENT_SECRET, (string) file_get_contents($file));
            $this->assertSame(1, self::$standIn->stats()['tokens_issued']);
        } finally {
            self::removeTree($dir);
        }
    }

    public function testTokenCacheFileRefusesUnsafePaths(): void
    {
        $dir = self::tempDir();
        try {
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTokenCacheFile("$dir/no-such-dir/token.json"));
            file_put_contents("$dir/readable.json", '{}');
            chmod("$dir/readable.json", 0644);
            $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTokenCacheFile("$dir/readable.json"));
            $this->assertStringContainsString('readable.json', $e->getMessage());
            symlink("$dir/elsewhere.json", "$dir/link.json");
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTokenCacheFile("$dir/link.json"));
            $local = Client::local(self::$standIn->url);
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $local->setTokenCacheFile("$dir/token.json"));

            $this->client->setTokenCacheFile("$dir/token.json");
            $this->client->setTokenCacheFile(null); // off again
            $this->client->setTokenCacheFile('');
            $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
            $this->assertFileDoesNotExist("$dir/token.json");
        } finally {
            self::removeTree($dir);
        }
    }

    public function testPhpProcessesShareOneTokenThroughTheFile(): void
    {
        // What PHP-FPM workers do: separate processes, one token file.
        $dir = self::tempDir();
        try {
            $script = <<<'PHP'
                $c = IcdApi\Client::cloud(getenv('T_ID'), getenv('T_SECRET'));
                $c->setApiBase(getenv('T_URL'));
                $c->setTokenEndpoint(getenv('T_URL') . '/connect/token');
                $c->setTokenCacheFile(getenv('T_FILE'));
                echo $c->codeInfoArray(getenv('T_CODE'))['code'];
                PHP;
            $env = ['T_ID' => self::$standIn->clientId, 'T_SECRET' => StandIn::CLIENT_SECRET,
                    'T_URL' => self::$standIn->url, 'T_FILE' => "$dir/token.json"];
            // Two at once, while the token endpoint is slow: one fetches, the other waits for the file.
            self::$standIn->admin('POST', 'config', ['token_delay_ms' => 300]);
            $runs = PhpProcess::runConcurrently([$script, $script], [$env + ['T_CODE' => '1A00'], $env + ['T_CODE' => '1F4Z']]);
            $this->assertSame([0, '1A00'], [$runs[0][0], $runs[0][1]], $runs[0][2]);
            $this->assertSame([0, '1F4Z'], [$runs[1][0], $runs[1][1]], $runs[1][2]);
            // And one later.
            [$status, $stdout, $stderr] = PhpProcess::run($script, $env + ['T_CODE' => 'FB32.5']);
            $this->assertSame([0, 'FB32.5'], [$status, $stdout], $stderr);

            $stats = self::$standIn->stats();
            $this->assertSame(1, $stats['tokens_issued']);
            $this->assertSame(1, $stats['token_requests']);
            $this->assertSame(3, $stats['api_requests']);
            $this->assertSame('600', sprintf('%o', fileperms("$dir/token.json") & 0777));
        } finally {
            self::removeTree($dir);
        }
    }

    // ---- disk cache -----------------------------------------------------------------------

    public function testCacheDirAnswersFixedReleasesAcrossClientsAndProcesses(): void
    {
        $root = self::tempDir();
        $dir = "$root/icd-cache"; // created by the library
        try {
            $first = $this->cloudClient();
            $first->setCacheDir($dir);
            $this->assertSame('1A00', $first->codeInfoArray('1A00')['code']);
            $this->assertSame('Cholera', $first->getArray(self::MMS . self::CHOLERA_ID)['title']['@value']);
            $first->close();
            clearstatcache();
            $this->assertDirectoryExists($dir);
            $this->assertSame('700', sprintf('%o', fileperms($dir) & 0777));
            $this->assertGreaterThanOrEqual(2, count(glob("$dir/*")));
            $this->assertSame(2, self::$standIn->stats()['api_requests']);

            // The API now fails codeinfo; clients with the same directory do not ask it.
            self::$standIn->fault(['match' => '/codeinfo/', 'kind' => 'status', 'status' => 500, 'count' => 5]);
            $second = $this->cloudClient();
            $second->setCacheDir($dir);
            $second->setMaxRetries(0);
            $this->assertSame('1A00', $second->codeInfoArray('1A00')['code']);
            $fromDisk = $second->getMany([self::MMS . self::CHOLERA_ID, self::MMS . 'codeinfo/1A00'], $firstError);
            $this->assertNull($firstError);
            $this->assertSame([200, 200], array_column($fromDisk, 'http_status'), 'answers from disk');

            $script = <<<'PHP'
                $c = IcdApi\Client::local(getenv('T_URL'));
                $c->setCacheDir(getenv('T_DIR'));
                $c->setMaxRetries(0);
                echo $c->codeInfoArray('1A00')['code'];
                PHP;
            [$status, $stdout, $stderr] = PhpProcess::run($script, ['T_URL' => self::$standIn->url, 'T_DIR' => $dir]);
            $this->assertSame([0, '1A00'], [$status, $stdout], $stderr);
            $this->assertSame(2, self::$standIn->stats()['api_requests'], 'nothing more reached the API');

            // Without the directory the fault is there.
            $this->client->setMaxRetries(0);
            $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->codeInfo('1A00'));
            $this->assertSame(500, $e->getHttpStatus());
        } finally {
            self::removeTree($root);
        }
    }

    public function testCacheDirOptions(): void
    {
        $root = self::tempDir();
        try {
            $this->client->setCacheDirMaxBytes(65536);
            $this->client->setCacheDirMaxBytes(1 << 30);
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setCacheDirMaxBytes(65535));
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setCacheDirMaxBytes(-1));
            file_put_contents("$root/a-file", '');
            $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setCacheDir("$root/a-file"));
            $this->client->setCacheDir("$root/cache");
            $this->client->setCacheDir(null); // off
            $this->client->setCacheDir('');
            $this->client->setCacheEntries(0);
            $this->client->codeInfo('1A00');
            $this->client->codeInfo('1A00');
            $this->assertSame(2, self::$standIn->stats()['api_requests'], 'no cache at all');
        } finally {
            self::removeTree($root);
        }
    }

    private static function tempDir(): string
    {
        $dir = sys_get_temp_dir() . '/icdapi-php-' . bin2hex(random_bytes(8));
        mkdir($dir, 0700);
        return $dir;
    }

    private static function removeTree(string $dir): void
    {
        foreach (glob("$dir/{,.}*", GLOB_BRACE) ?: [] as $entry) {
            if (in_array(basename($entry), ['.', '..'], true)) {
                continue;
            }
            is_dir($entry) && !is_link($entry) ? self::removeTree($entry) : unlink($entry);
        }
        rmdir($dir);
    }

    // ---- options --------------------------------------------------------------------------

    public function testSetOptionByName(): void
    {
        $this->client->setOption('language', 'fr');
        $this->assertSame('Choléra', $this->client->getArray('/icd/release/11/2026-01/mms/' . self::CHOLERA_ID)['title']['@value']);
        $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setOption('no_such_option', 'x'));
        $this->assertStringContainsString('no_such_option', $e->getMessage());
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setOption("language\0x", 'fr'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setOption('language', "fr\0"));
    }

    public function testSetReleaseAndLinearization(): void
    {
        $this->client->setRelease('2024-01');
        $this->client->search('cholera');
        $this->assertSame('/icd/release/11/2024-01/mms/search', self::$standIn->lastApiRequest()['path']);

        $this->client->setLinearization('icf');
        $this->assertSame([], $this->client->searchArray('cholera')['destinationEntities']);
        $this->assertSame('/icd/release/11/2024-01/icf/search', self::$standIn->lastApiRequest()['path']);

        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setRelease('2024/01'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setRelease(''));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setLinearization('foundation'));
        $this->client->search('cholera'); // the failures left the options as they were
        $this->assertSame('/icd/release/11/2024-01/icf/search', self::$standIn->lastApiRequest()['path']);
    }

    public function testSetLanguageRefusesABadTagAndKeepsTheOldOne(): void
    {
        $this->client->setLanguage('fr');
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setLanguage('fr; DROP'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setLanguage(''));
        $this->client->search('cholera');
        $this->assertSame('fr', self::$standIn->lastApiRequest()['headers']['accept-language']);
    }

    public function testSetApiVersion(): void
    {
        $this->client->setApiVersion('v1'); // the API refuses anything but v2
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->search('cholera'));
        $this->assertSame(400, $e->getHttpStatus());
        $this->assertSame('v1', self::$standIn->lastApiRequest()['headers']['api-version']);
        $this->client->setApiVersion('v2');
        $this->client->search('cholera');
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setApiVersion('v 2'));
    }

    public function testSetApiBaseAndTokenEndpoint(): void
    {
        // https or loopback only on a cloud client: the token must not travel in clear text.
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setApiBase('http://example.org'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setApiBase('ftp://127.0.0.1'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTokenEndpoint('http://example.org/connect/token'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTokenEndpoint('no url'));
        $this->client->setApiBase('https://id.who.int');
        $this->client->setApiBase(self::$standIn->url);
        $this->client->setTokenEndpoint(self::$standIn->url . '/connect/token');
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
    }

    public function testSetTimeoutMs(): void
    {
        $this->client->setTimeoutMs(5000);
        $this->client->codeInfo('1A00');
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTimeoutMs(0));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setTimeoutMs(-1));
    }

    public function testSetMaxRetries(): void
    {
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'status', 'status' => 503, 'retry_after' => '0', 'count' => 1]);
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']); // retried (default 2)

        $this->client->setMaxRetries(0);
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'status', 'status' => 503, 'retry_after' => '0', 'count' => 1]);
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->codeInfo('1F4Z'));
        $this->assertSame(503, $e->getHttpStatus());

        $this->client->setMaxRetries(10);
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setMaxRetries(11));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setMaxRetries(-1));
    }

    public function testSetCacheEntries(): void
    {
        $this->client->codeInfo('1A00');
        $this->client->codeInfo('1A00');
        $this->assertSame(1, self::$standIn->stats()['api_requests'], 'the second answer comes from the cache');

        $this->client->setCacheEntries(0);
        $this->client->codeInfo('1A00');
        $this->client->codeInfo('1A00');
        $this->assertSame(3, self::$standIn->stats()['api_requests'], 'no cache: both go to the API');

        $this->client->setCacheEntries(10);
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setCacheEntries(-1));
    }

    public function testSetMaxResponseBytes(): void
    {
        $this->client->setMaxResponseBytes(4096);
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'large', 'bytes' => 3000]);
        $this->assertSame(3000, strlen($this->client->codeInfo('1A00')));
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'large', 'bytes' => 100000]);
        $this->expectFailure(IcdException::NETWORK, fn () => $this->client->codeInfo('1F4Z'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setMaxResponseBytes(10));
    }

    public function testSetUserAgent(): void
    {
        $this->client->setUserAgent('my-app/1.0 (+https://example.org)');
        $this->client->codeInfo('1A00');
        $this->assertSame('my-app/1.0 (+https://example.org)', self::$standIn->lastApiRequest()['headers']['user-agent']);
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setUserAgent(''));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setUserAgent("bad\r\nX-Injected: 1"));
    }

    public function testSetProxy(): void
    {
        $this->client->setProxy(null);
        $this->client->setProxy('http://127.0.0.1:3128');
        $this->client->setProxy(null);
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setProxy('https://127.0.0.1:3128'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setProxy('not a url'));
    }

    public function testSetCaFile(): void
    {
        $bundle = '/etc/ssl/certs/ca-certificates.crt';
        if (is_file($bundle)) {
            $this->client->setCaFile($bundle);
            $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
        }
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setCaFile('/no/such/bundle.pem'));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setCaFile(__FILE__));
    }

    public function testSetLog(): void
    {
        // The library writes to the process's stderr, so the calls run in a child PHP.
        $script = <<<'PHP'
            $c = IcdApi\Client::cloud(getenv('T_ID'), getenv('T_SECRET'));
            $c->setApiBase(getenv('T_URL'));
            $c->setTokenEndpoint(getenv('T_URL') . '/connect/token');
            $c->setLog(true);
            $c->codeInfo('1A00');
            fwrite(STDERR, "--- off ---\n");
            $c->setLog(false);
            $c->codeInfo('1F4Z');
            PHP;
        [$status, , $stderr] = PhpProcess::run($script, ['T_ID' => self::$standIn->clientId, 'T_SECRET' => StandIn::CLIENT_SECRET, 'T_URL' => self::$standIn->url]);
        $this->assertSame(0, $status, $stderr);
        [$on, $off] = explode("--- off ---\n", $stderr);
        $this->assertStringContainsString('codeinfo/1A00', $on);
        $this->assertStringContainsString('token', strtolower($on));
        $this->assertSame('', $off);
        $this->assertStringNotContainsString(StandIn::CLIENT_SECRET, $stderr);
        $token = substr(self::$standIn->lastApiRequest()['headers']['authorization'], 7);
        $this->assertStringNotContainsString($token, $stderr);
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setOption('log', 'loud'));
    }

    public function testLogFromTheEnvironment(): void
    {
        $script = <<<'PHP'
            IcdApi\Client::local(getenv('T_URL'))->codeInfo('1A00');
            PHP;
        [, , $stderr] = PhpProcess::run($script, ['T_URL' => self::$standIn->url, 'ICDAPI_LOG' => 'debug']);
        $this->assertStringContainsString('codeinfo/1A00', $stderr);
    }

    // ---- errors ---------------------------------------------------------------------------

    public function testWrongSecretIsAuth(): void
    {
        $client = $this->cloudClient(self::SECRET_MARK);
        $e = $this->expectFailure(IcdException::AUTH, fn () => $client->search('cholera'));
        $this->assertSame('AUTH', $e->getStatusName());
        $this->assertStringNotContainsString(self::SECRET_MARK, (string) $e);
    }

    public function testUnknownCodeIsHttp404(): void
    {
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->codeInfo('ZZ99.9'));
        $this->assertSame(404, $e->getHttpStatus());
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->codeInfoArray('ZZ99.9'));
        $this->assertSame(404, $e->getHttpStatus());
    }

    public function testForeignHostIsInvalidArgument(): void
    {
        $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->get('https://example.org/icd/entity'));
        $this->assertSame(0, $e->getHttpStatus());
        $this->assertSame(0, self::$standIn->stats()['token_requests'], 'nothing was sent anywhere');
    }

    public function testNulByteIsInvalidArgument(): void
    {
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->search("chol\0era"));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->getArray("/icd/entity\0"));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => Client::cloud("id\0", 'secret'));
    }

    public function testInvalidUtf8IsInvalidArgument(): void
    {
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->search("chol\xffera"));
    }

    public function testBodyThatIsNotJsonIsParse(): void
    {
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'non_json']);
        $e = $this->expectFailure(IcdException::PARSE, fn () => $this->client->codeInfoArray('1A00'));
        $this->assertSame(200, $e->getHttpStatus());
    }

    public function testHangIsTimeout(): void
    {
        $this->client->setTimeoutMs(500);
        $this->client->codeInfo('1F4Z'); // the token is fetched before the hang
        self::$standIn->fault(['match' => 'codeinfo/1A00', 'kind' => 'hang', 'seconds' => 3]);
        $start = microtime(true);
        $this->expectFailure(IcdException::TIMEOUT, fn () => $this->client->codeInfo('1A00'));
        $this->assertLessThan(2.0, microtime(true) - $start);
    }

    public function testDropAndResetAreNetwork(): void
    {
        $this->client->setMaxRetries(0);
        foreach (['drop', 'reset'] as $kind) {
            self::$standIn->fault(['match' => 'codeinfo', 'kind' => $kind]);
            $e = $this->expectFailure(IcdException::NETWORK, fn () => $this->client->codeInfo('1A00'));
            $this->assertSame(0, $e->getHttpStatus(), "$kind: no HTTP answer");
        }
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'truncate']); // the status came, half the body did not
        $this->expectFailure(IcdException::NETWORK, fn () => $this->client->codeInfo('1A00'));
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
    }

    public function testCutConnectionIsRetried(): void
    {
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'drop']);
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
    }

    public function testConnectionRefusedIsNetwork(): void
    {
        $client = Client::local('http://127.0.0.1:9');
        $client->setMaxRetries(0);
        $this->expectFailure(IcdException::NETWORK, fn () => $client->codeInfo('1A00'));
    }

    public function testTheSecretIsInNoMessage(): void
    {
        $client = $this->cloudClient(self::SECRET_MARK);
        $messages = [];
        foreach ([
            fn () => $client->search('cholera'),
            fn () => $client->get('https://example.org/icd/entity'),
            fn () => $client->setApiBase('http://example.org'),
            fn () => Client::cloud(StandIn::CLIENT_ID, self::SECRET_MARK)->setTokenEndpoint('http://example.org/t'),
        ] as $call) {
            try {
                $call();
            } catch (IcdException $e) {
                $messages[] = $e->getMessage();
            }
        }
        $this->assertCount(4, $messages);
        foreach ($messages as $message) {
            $this->assertStringNotContainsString(self::SECRET_MARK, $message);
        }
    }

    // ---- resources ------------------------------------------------------------------------

    public function testNoLeakOverManyCalls(): void
    {
        $path = '/icd/release/11/2026-01/mms/' . self::CHOLERA_ID;
        $size = strlen($this->client->get($path));
        $this->assertGreaterThan(1000, $size);
        for ($i = 0; $i < 2000; $i++) { // warm up: allocator pools, the cache
            $this->client->get($path);
        }
        gc_collect_cycles();
        $rss = self::rssKiB();
        $php = memory_get_usage();
        for ($i = 0; $i < 20000; $i++) {
            $this->client->get($path);
            $this->client->codeInfoArray('1A00');
        }
        for ($i = 0; $i < 5000; $i++) { // failures: the message is the library's, never freed by PHP
            try {
                $this->client->get('https://example.org/icd/entity/' . str_repeat('x', 200));
            } catch (IcdException) {
            }
        }
        $batch = [$path, $path . '?x=1', null, "/icd/\0", 'https://example.org/' . str_repeat('y', 200)];
        for ($i = 0; $i < 4000; $i++) { // batches: C arrays, owned paths, bodies (two served by the cache)
            $results = $this->client->getMany($batch, $firstError);
            $this->assertSame(IcdException::OK, $results[1]['status']);
            $this->assertSame(0, $results[4]['http_status']);
        }
        unset($results, $firstError);
        for ($i = 0; $i < 50; $i++) { // failures with an HTTP answer (cannot be cached: slower)
            try {
                $this->client->codeInfo('ZZ99.9');
            } catch (IcdException) {
            }
        }
        gc_collect_cycles();
        $grownKiB = self::rssKiB() - $rss;
        // A leaked body would be 20000 * $size bytes (tens of MiB); allow 4 MiB of noise.
        $this->assertLessThan(4096, $grownKiB, "RSS grew by $grownKiB KiB over 45050 calls and 4000 batches ($size-byte bodies)");
        $this->assertLessThan(64 * 1024, memory_get_usage() - $php, 'PHP memory grew');
    }
}
