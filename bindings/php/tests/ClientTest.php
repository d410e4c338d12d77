<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\Client;
use IcdApi\IcdException;
use PHPUnit\Framework\TestCase;

/**
 * IcdApi\Client against the local stand-in of the WHO API, started once for the class.
 */
final class ClientTest extends TestCase
{
    private const CHOLERA_ID = '257068234';
    private const SECRET_MARK = 'SeCrEt-must-not-leak-7f3a';

    private static StandIn $standIn;
    private Client $client;

    public static function setUpBeforeClass(): void
    {
        self::$standIn = new StandIn();
    }

    public static function tearDownAfterClass(): void
    {
        self::$standIn->stop();
    }

    protected function setUp(): void
    {
        self::$standIn->reset();
        $this->client = $this->cloudClient();
    }

    private function cloudClient(string $secret = StandIn::CLIENT_SECRET): Client
    {
        $client = Client::cloud(StandIn::CLIENT_ID, $secret);
        $client->setApiBase(self::$standIn->url);
        $client->setTokenEndpoint(self::$standIn->url . '/connect/token');
        return $client;
    }

    /** Runs $call and returns the IcdException it must throw. */
    private function expectFailure(int $status, callable $call): IcdException
    {
        try {
            $call();
        } catch (IcdException $e) {
            $this->assertSame($status, $e->getStatus(), "status {$e->getStatusName()}: {$e->getMessage()}");
            $this->assertSame($status, $e->getCode());
            $this->assertNotSame('', $e->getMessage());
            $this->assertStringNotContainsString(StandIn::CLIENT_SECRET, $e->getMessage());
            $this->assertStringNotContainsString(self::SECRET_MARK, $e->getMessage());
            return $e;
        }
        $this->fail('expected an IcdException with status ' . $status);
    }

    private static function rssKiB(): int
    {
        preg_match('/^VmRSS:\s+(\d+)\s+kB/m', (string) file_get_contents('/proc/self/status'), $m);
        return (int) ($m[1] ?? 0);
    }

    // ---- the request methods, raw and decoded ---------------------------------------------

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
        $path = '/icd/release/11/2026-01/mms/search';
        $raw = $this->client->post($path, '{"q":"cholera"}');
        $this->assertSame('1A00', json_decode($raw, true)['destinationEntities'][0]['theCode']);
        $request = self::$standIn->lastApiRequest();
        $this->assertSame('POST', $request['method']);
        $this->assertSame('{"q":"cholera"}', $request['body']);

        $array = $this->client->postArray($path, ['q' => 'cholera']);
        $this->assertSame('1A00', $array['destinationEntities'][0]['theCode']);
        $this->assertSame('{"q":"cholera"}', self::$standIn->lastApiRequest()['body']);
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
        $vars = ['ICD_CLIENT_ID' => StandIn::CLIENT_ID, 'ICD_CLIENT_SECRET' => StandIn::CLIENT_SECRET,
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
        $this->assertSame(100, self::$standIn->stats()['tokens_issued']);
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
        [$status, , $stderr] = PhpProcess::run($script, ['T_ID' => StandIn::CLIENT_ID, 'T_SECRET' => StandIn::CLIENT_SECRET, 'T_URL' => self::$standIn->url]);
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
        for ($i = 0; $i < 50; $i++) { // failures with an HTTP answer (cannot be cached: slower)
            try {
                $this->client->codeInfo('ZZ99.9');
            } catch (IcdException) {
            }
        }
        gc_collect_cycles();
        $grownKiB = self::rssKiB() - $rss;
        // A leaked body would be 20000 * $size bytes (tens of MiB); allow 4 MiB of noise.
        $this->assertLessThan(4096, $grownKiB, "RSS grew by $grownKiB KiB over 45050 calls ($size-byte bodies)");
        $this->assertLessThan(64 * 1024, memory_get_usage() - $php, 'PHP memory grew');
    }
}
