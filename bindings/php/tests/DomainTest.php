<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\Client;
use IcdApi\IcdException;

/**
 * The 0.2 additions against the local stand-in: query parameters (what the server sees, how
 * bools, ints, floats and null become text, what is refused), IcdException::API, entityByCode,
 * ICD-10, getOption, the unserved-release message, non-ASCII text.
 */
final class DomainTest extends StandInTestCase
{
    /** The query string of the stand-in's last API request, as it arrived (still encoded). */
    private static function lastQuery(): string
    {
        $target = self::$standIn->lastApiRequest()['target'];
        return (string) parse_url('http://x' . $target, PHP_URL_QUERY);
    }

    // ---- query parameters -----------------------------------------------------------------

    public function testSearchParametersReachTheServerInOrderAfterQ(): void
    {
        $plain = $this->client->searchArray('cholera', ['highlightingEnabled' => false, 'flatResults' => true, 'chapterFilter' => '01;02']);
        $this->assertSame('q=cholera&highlightingEnabled=false&flatResults=true&chapterFilter=01%3B02', self::lastQuery());
        $this->assertSame('Cholera', $plain['destinationEntities'][0]['title'], 'plain title: no <em class=\'found\'>');

        $marked = $this->client->searchArray('cholera');
        $this->assertSame('q=cholera', self::lastQuery());
        $this->assertStringContainsString("<em class='found'>", $marked['destinationEntities'][0]['title']);

        $raw = $this->client->search('cholera', ['highlightingEnabled' => false]);
        $this->assertSame('Cholera', json_decode($raw, true)['destinationEntities'][0]['title']);
    }

    public function testParametersChangeTheAnswer(): void
    {
        // chapterFilter 01 holds cholera; 02 does not.
        $this->assertNotSame([], $this->client->searchArray('cholera', ['chapterFilter' => '01'])['destinationEntities']);
        $this->assertSame([], $this->client->searchArray('cholera', ['chapterFilter' => '02'])['destinationEntities']);
        // flatResults=false nests the hits in their ancestors.
        $nested = $this->client->searchArray('cholera', ['flatResults' => false, 'highlightingEnabled' => false]);
        $this->assertNotEmpty($nested['destinationEntities']);
        $this->assertArrayHasKey('descendants', $nested['destinationEntities'][0]);
    }

    public function testBoolsIntsFloatsAndNullBecomeText(): void
    {
        $this->client->autocodeArray('cholera', [
            'bool' => true, 'false' => false, 'int' => 42, 'negative' => -7, 'big' => PHP_INT_MAX,
            'threshold' => 0.75, 'sum' => 0.1 + 0.2, 'huge' => 1e20, 'tiny' => 1.5e-7, 'whole' => 2.0,
            'minus' => -0.5, 'zero' => -0.0, 'skipped' => null, 'empty' => '', 'text' => 'a b&c=d/é%',
        ]);
        $this->assertSame(
            'searchText=cholera&bool=true&false=false&int=42&negative=-7&big=9223372036854775807'
            . '&threshold=0.75&sum=0.30000000000000004&huge=100000000000000000000&tiny=0.00000015'
            . '&whole=2&minus=-0.5&zero=0&empty=&text=a%20b%26c%3Dd%2F%C3%A9%25',
            self::lastQuery()
        );
        $seen = self::$standIn->lastApiRequest()['query'];
        $this->assertSame(['0.75'], $seen['threshold']);
        $this->assertSame(['a b&c=d/é%'], $seen['text']);
        $this->assertArrayNotHasKey('skipped', $seen);
    }

    public function testFloatsAreShortestPlainDecimalsThatReadBackExactly(): void
    {
        $this->client->setCacheEntries(0);
        $values = [0.75, 1e-6, 123456.789, 1 / 3, 5e-324, 1.7976931348623157e308, 9007199254740993.0, 0.1, 100.0, 1e22, -2.5e-5];
        foreach ($values as $i => $value) {
            $this->client->getArray('/icd/release/11/2026-01/mms/257068234', ['x' => $value]);
            $text = self::$standIn->lastApiRequest()['query']['x'][0];
            $this->assertMatchesRegularExpression('/^-?\d+(\.\d+)?$/', $text, "case $i: no exponent");
            $this->assertSame($value, (float) $text, "case $i: $text reads back as the same float");
            $this->assertDoesNotMatchRegularExpression('/\.\d*0$/', $text, "case $i: no trailing zero");
        }
        $this->client->getArray('/icd/release/11/2026-01/mms/257068234', ['x' => 1 / 3]);
        $this->assertSame('0.3333333333333333', self::$standIn->lastApiRequest()['query']['x'][0]);
    }

    public function testGetAddsParametersToTheQueryOfThePath(): void
    {
        $entity = $this->client->getArray('/icd/release/11/2026-01/mms/257068234?include=ancestor', ['x' => 'y']);
        $this->assertSame('include=ancestor&x=y', self::lastQuery());
        $this->assertArrayHasKey('ancestor', $entity);
        $this->client->getArray('http://id.who.int/icd/release/11/2026-01/mms/257068234', ['include' => 'descendant']);
        $this->assertSame('/icd/release/11/2026-01/mms/257068234?include=descendant', self::$standIn->lastApiRequest()['target']);
    }

    public function testCodeInfoParametersFollowTheCode(): void
    {
        $info = $this->client->codeInfoArray('1A00&XN6P4', ['flexiblemode' => true, 'convertToTerminalCodes' => false]);
        $this->assertSame('1A00&XN6P4', $info['code']);
        $this->assertStringEndsWith('/codeinfo/1A00%26XN6P4?flexiblemode=true&convertToTerminalCodes=false', self::$standIn->lastApiRequest()['target']);
        $this->assertSame('1A00', json_decode($this->client->codeInfo('1A00', ['a' => 1]), true)['code']);
    }

    public function testOtherParametersAreOtherCacheEntries(): void
    {
        $this->client->search('cholera', ['highlightingEnabled' => false]);
        $this->client->search('cholera', ['highlightingEnabled' => false]);
        $this->assertSame(1, self::$standIn->stats()['api_requests'], 'the same parameters: from the cache');
        $this->client->search('cholera', ['highlightingEnabled' => true]);
        $this->client->search('cholera');
        $this->assertSame(3, self::$standIn->stats()['api_requests']);
    }

    public function testOnlyNullValuesIsNoParameterAtAll(): void
    {
        $this->client->searchArray('cholera', ['chapterFilter' => null]);
        $this->assertSame('q=cholera', self::lastQuery());
    }

    /** @return iterable<string, array{array<array-key, mixed>, string}> */
    public static function badParameters(): iterable
    {
        yield 'a list' => [['highlightingEnabled', 'false'], 'key 0 is not a parameter name'];
        yield 'an int key' => [['q2' => 'x', 7 => 'y'], 'key 7'];
        yield 'a numeric string key (PHP makes it an int)' => [['1' => 'x'], 'key 1'];
        yield 'an empty name' => [['' => 'x'], "key ''"];
        yield 'an array value' => [['chapterFilter' => ['01', '02']], "'chapterFilter' is array"];
        yield 'an object value' => [['x' => new \stdClass()], "'x' is stdClass"];
        yield 'INF' => [['matchThreshold' => INF], "'matchThreshold' is INF"];
        yield 'NAN' => [['matchThreshold' => NAN], "'matchThreshold' is NAN"];
        yield 'a NUL byte in a value' => [['x' => "a\0b"], 'NUL byte'];
        yield 'a NUL byte in a name' => [["x\0" => 'a'], 'NUL byte'];
        yield 'invalid UTF-8' => [['x' => "chol\xffera"], 'not valid UTF-8'];
        yield 'invalid UTF-8 in a name' => [["\xff" => 'a'], 'not valid UTF-8'];
    }

    /**
     * @dataProvider badParameters
     * @param array<array-key, mixed> $params
     */
    public function testBadParametersAreRefusedBeforeAnythingIsSent(array $params, string $says): void
    {
        foreach ([
            fn () => $this->client->search('cholera', $params),
            fn () => $this->client->autocodeArray('cholera', $params),
            fn () => $this->client->codeInfo('1A00', $params),
            fn () => $this->client->getArray('/icd/release/11/2026-01/mms/257068234', $params),
        ] as $call) {
            $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, $call);
            $this->assertStringContainsString($says, $e->getMessage());
            $this->assertStringContainsString('nothing was sent', $e->getMessage());
            $this->assertSame(0, $e->getHttpStatus());
        }
        $this->assertSame(0, self::$standIn->stats()['token_requests']);
        $this->assertSame(0, self::$standIn->stats()['api_requests']);
    }

    public function testStringableValuesAreTheirText(): void
    {
        $value = new class () implements \Stringable {
            public function __toString(): string
            {
                return '01;1A';
            }
        };
        $this->client->search('cholera', ['chapterFilter' => $value]);
        $this->assertSame(['01;1A'], self::$standIn->lastApiRequest()['query']['chapterFilter']);
    }

    public function testNonAsciiParametersAndAnswers(): void
    {
        $this->client->setLanguage('fr');
        $hits = $this->client->searchArray('choléra', ['highlightingEnabled' => false, 'propertiesToBeSearched' => 'Title,Synonym']);
        $this->assertSame('Choléra', $hits['destinationEntities'][0]['title']);
        $this->assertStringStartsWith('q=chol%C3%A9ra&', self::lastQuery());
        // Answers whose non-ASCII text comes as \u00e9 escapes decode to the same text.
        self::$standIn->admin('POST', 'config', ['escape_non_ascii' => true]);
        $entity = $this->client->entityByCode('1A00');
        $this->assertStringContainsString('Chol\u00e9ra', $entity);
        $this->assertSame('Choléra', json_decode($entity, true)['title']['@value']);
        $this->assertSame('Choléra', $this->client->searchArray('choléra', ['highlightingEnabled' => false, 'x' => 'ü'])['destinationEntities'][0]['title']);
    }

    // ---- IcdException::API ------------------------------------------------------------------

    public function testASearchTheApiCouldNotRunIsApi(): void
    {
        $e = $this->expectFailure(IcdException::API, fn () => $this->client->searchArray('%'));
        $this->assertSame(200, $e->getHttpStatus());
        $this->assertSame('API', $e->getStatusName());
        $this->assertSame(8, $e->getCode());
        $this->assertStringContainsString('The search text (q) is empty.', $e->getMessage());
        $this->expectFailure(IcdException::API, fn () => $this->client->search('%', ['highlightingEnabled' => false]));

        self::$standIn->fault(['match' => 'autocode', 'kind' => 'json_error_200', 'message' => 'Autocoding is unavailable', 'count' => 2]);
        $e = $this->expectFailure(IcdException::API, fn () => $this->client->autocode('cholera'));
        $this->assertStringContainsString('Autocoding is unavailable', $e->getMessage());
        $this->assertSame(200, $e->getHttpStatus());
        $this->expectFailure(IcdException::API, fn () => $this->client->autocodeArray('cholera', ['matchThreshold' => 0.5]));
        // Never cached: the same call asks again, and now succeeds.
        $this->assertSame('1A00', $this->client->autocodeArray('cholera')['theCode']);
    }

    public function testGetReturnsAnErrorBodyAsItCame(): void
    {
        $body = $this->client->getArray('/icd/release/11/2026-01/mms/search', ['q' => '%']);
        $this->assertTrue($body['error']);
        $this->assertSame('The search text (q) is empty.', $body['errorMessage']);
        $this->client->getArray('/icd/release/11/2026-01/mms/search', ['q' => '%']);
        $this->assertSame(2, self::$standIn->stats()['api_requests'], 'never cached');
    }

    // ---- entityByCode -----------------------------------------------------------------------

    public function testEntityByCode(): void
    {
        $entity = $this->client->entityByCodeArray('1A00');
        $this->assertSame('1A00', $entity['code']);
        $this->assertSame('Cholera', $entity['title']['@value']);
        $paths = array_column(array_filter(self::$standIn->log(), static fn (array $r): bool => str_starts_with($r['path'], '/icd')), 'path');
        $this->assertSame(['/icd/release/11/2026-01/mms/codeinfo/1A00', '/icd/release/11/2026-01/mms/257068234'], $paths);

        $this->client->setLanguage('fr');
        $this->assertSame('Choléra', json_decode($this->client->entityByCode('1A00'), true)['title']['@value']);
        $this->client->setRelease('2024-01');
        $this->assertSame('http://id.who.int/icd/release/11/2024-01/mms/257068234', $this->client->entityByCodeArray('1A00')['@id']);
    }

    public function testEntityByCodeOfAPostcoordinatedCodeIsItsStem(): void
    {
        $entity = $this->client->entityByCodeArray('1A00&XN6P4/1F4Z');
        $this->assertSame('1A00', $entity['code']);
        $this->assertStringEndsWith('/codeinfo/1A00%26XN6P4%2F1F4Z', self::$standIn->log()[1]['target']);
    }

    public function testEntityByCodeOfAnUnknownCodeIsHttp404(): void
    {
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->entityByCode('ZZ99.9'));
        $this->assertSame(404, $e->getHttpStatus());
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->entityByCodeArray(''));
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->entityByCode("1A\0"));
    }

    public function testEntityByCodeWithoutStemIdIsParse(): void
    {
        self::$standIn->fault(['match' => 'codeinfo', 'kind' => 'status', 'status' => 200, 'content_type' => 'application/json', 'body' => '{"code":"1A00"}']);
        $e = $this->expectFailure(IcdException::PARSE, fn () => $this->client->entityByCode('1A00'));
        $this->assertStringContainsString('stemId', $e->getMessage());
    }

    // ---- ICD-10 -----------------------------------------------------------------------------

    public function testIcd10CategoryBlockAndChapter(): void
    {
        $category = $this->client->icd10Array('A00.0');
        $this->assertSame('A00.0', $category['code']);
        $this->assertSame('/icd/release/10/2019/A00.0', self::$standIn->lastApiRequest()['path']);
        $this->assertSame('category', $category['classKind']);

        $block = $this->client->icd10Array('A00-A09');
        $this->assertSame('block', $block['classKind']);
        $this->assertContains('http://id.who.int/icd/release/10/2019/A00', $block['child']);

        $chapter = json_decode($this->client->icd10('I'), true);
        $this->assertSame('chapter', $chapter['classKind']);
        $this->assertContains('http://id.who.int/icd/release/10/2019/A00-A09', $chapter['child']);

        $this->client->setLanguage('fr');
        $this->assertStringStartsWith('Choléra', $this->client->icd10Array('A00')['title']['@value']);
    }

    public function testIcd10Release(): void
    {
        $this->assertSame('2019', $this->client->getOption('icd10_release'));
        $this->client->setIcd10Release('2016');
        $this->assertSame('2016', $this->client->getOption('icd10_release'));
        $this->assertSame('http://id.who.int/icd/release/10/2016/B54', $this->client->icd10Array('B54')['@id']);
        $this->assertSame('/icd/release/10/2016/B54', self::$standIn->lastApiRequest()['path']);

        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->setIcd10Release(''));
        $this->assertSame('2016', $this->client->getOption('icd10_release'), 'unchanged after a refusal');
        $this->client->setIcd10Release('1990');
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->icd10('A00'));
        $this->assertSame(404, $e->getHttpStatus());
    }

    public function testIcd10UnknownAndEmptyCodes(): void
    {
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->icd10Array('Z99.9'));
        $this->assertSame(404, $e->getHttpStatus());
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->icd10(''));
    }

    // ---- options read back --------------------------------------------------------------------

    public function testGetOption(): void
    {
        $this->assertSame('2026-01', $this->client->getOption('release'));
        $this->assertSame('mms', $this->client->getOption('linearization'));
        $this->assertSame('30000', $this->client->getOption('timeout_ms'));
        $this->assertSame('', $this->client->getOption('cache_dir'));
        $this->client->setRelease('2024-01');
        $this->client->setTimeoutMs(5000);
        $this->client->setLanguage('fr');
        $this->assertSame('2024-01', $this->client->getOption('release'));
        $this->assertSame('5000', $this->client->getOption('timeout_ms'));
        $this->assertSame('fr', $this->client->getOption('language'));
        $this->assertSame(self::$standIn->url, rtrim($this->client->getOption('api_base'), '/'));
        $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->getOption('client_secret'));
        $this->assertStringNotContainsString(StandIn::CLIENT_SECRET, $e->getMessage());
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->getOption('no_such_option'));
        $this->client->close();
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->getOption('release'));
    }

    // ---- a release the API does not serve ----------------------------------------------------

    public function testAnUnservedReleaseIsExplained(): void
    {
        $local = new StandIn(['--local', '--releases', '2024-01']);
        try {
            $client = Client::local($local->url);
            $e = $this->expectFailure(IcdException::HTTP, fn () => $client->codeInfo('1A00'));
            $this->assertSame(404, $e->getHttpStatus());
            $this->assertStringContainsString('release "2026-01" is not served by ' . $local->url, $e->getMessage());
            $this->assertStringContainsString('(it serves 2024-01)', $e->getMessage());
            $this->assertStringContainsString('set the release option', $e->getMessage());
            $this->expectFailure(IcdException::HTTP, fn () => $client->entityByCode('1A00'));
            $this->expectFailure(IcdException::HTTP, fn () => $client->search('cholera', ['highlightingEnabled' => false]));
            $lists = array_filter($local->log(), static fn (array $r): bool => $r['path'] === '/icd/release/11/mms');
            $this->assertCount(1, $lists, 'the release list is asked for once per client');

            $client->setRelease('2024-01');
            $this->assertSame('1A00', $client->entityByCodeArray('1A00')['code']);
            // An unknown code in a served release stays a plain 404.
            $e = $this->expectFailure(IcdException::HTTP, fn () => $client->codeInfo('ZZ99.9'));
            $this->assertStringNotContainsString('is not served', $e->getMessage());
        } finally {
            $local->stop();
        }
    }

    // ---- no leak ------------------------------------------------------------------------------

    public function testParameterArraysDoNotLeak(): void
    {
        $params = ['highlightingEnabled' => false, 'flatResults' => true, 'chapterFilter' => '01;02', 'matchThreshold' => 0.75, 'n' => 3];
        for ($i = 0; $i < 500; $i++) { // warm up: the cache, allocator pools
            $this->client->search('cholera', $params);
        }
        gc_collect_cycles();
        $php = memory_get_usage();
        $rss = self::rssKiB();
        for ($i = 0; $i < 20000; $i++) {
            $this->client->search('cholera', $params);
            $this->client->codeInfoArray('1A00', ['flexiblemode' => true]);
        }
        for ($i = 0; $i < 2000; $i++) {
            try {
                $this->client->search('cholera', ['x' => "bad\xff"]);
            } catch (IcdException) {
            }
        }
        gc_collect_cycles();
        $this->assertLessThan(16 * 1024, memory_get_usage() - $php, 'PHP memory grew over 40000 calls with parameters');
        $this->assertLessThan(2048, self::rssKiB() - $rss, 'RSS grew over 40000 calls with parameters');
    }
}
