<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\Client;
use IcdApi\IcdException;

/**
 * The 0.3 navigation against the local stand-in: describe, releases, release "latest", parents,
 * children, ancestors, and WHO's mapping tables (synthetic, in WHO's layout, as a directory).
 */
final class NavigationTest extends StandInTestCase
{
    private const MMS = 'http://id.who.int/icd/release/11/2026-01/mms';

    public function testDescribeTakesCodesUrisAndParameters(): void
    {
        $this->assertSame('Cholera', $this->client->describeArray('1A00')['label']);
        $this->assertSame('1A00', json_decode($this->client->describe('1A00'), true)['code']);
        $combined = $this->client->describeArray('1A00&XN8P1', ['flexiblemode' => true]);
        $this->assertSame(['1A00&XN8P1', '1A00'], [$combined['code'], $combined['stemCode']]);
        $this->assertStringEndsWith('describe?code=1A00%26XN8P1&flexiblemode=true', self::$standIn->lastApiRequest()['target']);
        $this->assertSame('1A0Y', $this->client->describeArray(self::MMS . '/135352227/other')['code']);
        $this->assertSame([self::MMS . '/135352227/other'], self::$standIn->lastApiRequest()['query']['uri']);
        $this->client->setLanguage('fr');
        $this->assertSame('Choléra', $this->client->describeArray('1A00')['label']);
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->describe('ZZ99'));
        $this->assertSame(404, $e->getHttpStatus());
        $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->describe('1A00', ['' => 'x']));
    }

    public function testReleasesAndTheLatestRelease(): void
    {
        self::$standIn->admin('POST', 'config', ['releases' => ['2024-01', '2023-01']]);
        $this->assertSame('http://id.who.int/icd/release/11/2024-01/mms', $this->client->releasesArray()['latestRelease']);
        $this->assertStringContainsString('"latestRelease"', $this->client->releases());
        $this->client->setRelease('latest');
        $this->assertSame('latest', $this->client->getOption('release'));
        $this->assertSame('1A00', $this->client->codeInfoArray('1A00')['code']);
        $this->assertSame('/icd/release/11/2024-01/mms/codeinfo/1A00', self::$standIn->lastApiRequest()['path']);
        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->codeInfo('ZZ99'));
        $this->assertStringContainsString('release "latest" is 2024-01', $e->getMessage());
    }

    public function testParentsChildrenAndAncestorsWithTitles(): void
    {
        $this->assertSame(
            [['uri' => self::MMS . '/135352227', 'code' => '', 'title' => 'Bacterial intestinal infections', 'classKind' => 'block']],
            $this->client->parentsArray('1A00')
        );
        $this->assertSame($this->client->parentsArray('1A00'), json_decode($this->client->parents('1A00'), true));
        $ancestors = $this->client->ancestorsArray('1A00&XN8P1');
        $this->assertSame([self::MMS . '/135352227', self::MMS . '/588616678', self::MMS . '/1435254666'], array_column($ancestors, 'uri'));
        $this->assertSame('chapter', $ancestors[2]['classKind']);
        $this->assertCount(4, json_decode($this->client->ancestors('FB32.5'), true), 'each ancestor once in a diamond');
        $children = $this->client->childrenArray(self::MMS . '/1439886552');
        $this->assertSame(['1F40', '1F41', '1F42', '1F43', '1F44', '1F45', '1F4Z'], array_column($children, 'code'));
        $this->assertSame('[]', $this->client->children('1A00'));
        $this->client->setLanguage('fr');
        $this->assertSame('Infections intestinales bactériennes', $this->client->parentsArray('1A00')[0]['title']);
        $this->assertSame(404, $this->expectFailure(IcdException::HTTP, fn () => $this->client->ancestors('ZZ99'))->getHttpStatus());
    }

    public function testMappingTablesFromADirectory(): void
    {
        $directory = sys_get_temp_dir() . '/icdapi-php-maps-' . bin2hex(random_bytes(6));
        mkdir($directory);
        try {
            $tenToEleven = "\u{FEFF}10ClassKind\t10DepthInKind\ticd10Code\ticd10Chapter\ticd10Title\t11ClassKind\t11DepthInKind\t"
                . "ICD-11 FoundationURI\tLinearization (releaseURI)\ticd11Code\ticd11Chapter\ticd11Title\t2026-Jan-17\r\n";
            $row = fn (string $code11, string $title11): string => "category\t1\tA00.0\tI\tCholera due to Vibrio cholerae\tcategory\t1\t"
                . 'http://id.who.int/icd/entity/257068234' . "\t" . self::MMS . "/257068234\t$code11\t01\t$title11\r\n";
            file_put_contents("$directory/10To11MapToOneCategory.txt", $tenToEleven . $row('1A00', 'Cholera'));
            file_put_contents("$directory/10To11MapToMultipleCategories.txt", $tenToEleven . $row('1A00&XN8P1', 'Choléra'));
            file_put_contents(
                "$directory/11To10MapToOneCategory.txt",
                "\u{FEFF}Linearization (release) URI\ticd11Code\ticd11Chapter\ticd11Title\ticd10Code\ticd10Chapter\ticd10Title\t2026-Jan-17\r\n"
                . self::MMS . "/257068234\t1A00\t01\tCholera\tA00\tI\tCholera\r\n"
            );
            $client = Client::local('http://127.0.0.1:9');
            $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $client->mapIcd10ToIcd11('A00.0'));
            $this->assertStringContainsString('icdcdn.who.int/static/releasefiles', $e->getMessage());
            $client->setMappingTables($directory);
            $this->assertSame($directory, $client->getOption('mapping_tables'));
            $rows = $client->mapIcd10ToIcd11Array(' a00.0 ');
            $this->assertSame([['one', '1A00'], ['multiple', '1A00&XN8P1']], array_map(fn ($r) => [$r['table'], $r['icd11Code']], $rows));
            $this->assertSame('Choléra', $rows[1]['icd11Title']);
            $this->assertSame('http://id.who.int/icd/entity/257068234', $rows[0]['foundationUri']);
            $this->assertSame('A00', $client->mapIcd11ToIcd10Array('1a00')[0]['icd10Code']);
            $this->assertSame('[]', $client->mapIcd11ToIcd10('ZZ99'));
            $client->setMappingTables("$directory/nowhere");
            $e = $this->expectFailure(IcdException::PARSE, fn () => $client->mapIcd11ToIcd10('1A00'));
            $this->assertStringContainsString('nowhere', $e->getMessage());
            $client->setMappingTables(null);
            $this->assertSame('', $client->getOption('mapping_tables'));
        } finally {
            array_map('unlink', glob("$directory/*") ?: []);
            rmdir($directory);
        }
    }
}
