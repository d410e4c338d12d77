<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\IcdException;

/**
 * Death certificates (0.3): doris, codEdit and their Array twins against the local stand-in, whose
 * rule is NOT WHO's DORIS (tools/standin/README.md: the lowest used line of Part 1 gives the
 * underlying cause). What is tested is the binding: fields sent and checked, answers returned.
 */
final class CertificateTest extends StandInTestCase
{
    public function testDorisSendsTheFieldsAndReturnsTheAnswer(): void
    {
        $answer = $this->client->dorisArray([
            'causeOfDeathCodeA' => '1A00', 'causeOfDeathCodeC' => '1F40,1A01', 'sex' => 2,
            'dateBirth' => null, 'mannerOfDeathDescriptionExternalCause' => 'fell & hit é',
        ]);
        $this->assertSame(['1F40', '1F40', false], [$answer['code'], $answer['stemCode'], $answer['reject']]);
        $this->assertSame(
            '/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00&causeOfDeathCodeC=1F40%2C1A01&sex=2'
            . '&mannerOfDeathDescriptionExternalCause=fell%20%26%20hit%20%C3%A9',
            self::$standIn->lastApiRequest()['target']
        );
        $raw = $this->client->doris(['causeOfDeathCodeA' => '1A00']);
        $this->assertSame('1A00', json_decode($raw, true)['code']);
    }

    public function testARejectionIsAnAnswerAndCodEditChecks(): void
    {
        $rejected = $this->client->dorisArray(['causeOfDeathCodePart2' => '1A00']);
        $this->assertTrue($rejected['reject']);
        $this->assertStringContainsString('No cause of death in Part 1', $rejected['error']);
        $this->assertNull($rejected['code']);

        $check = $this->client->codEditArray(['causeOfDeathCodeA' => 'ZZ99', 'sex' => 1, 'maternalDeathWasPregnant' => 1]);
        $this->assertSame('U1,C0,S1', $check['issueIds']);
        $this->assertSame('/icd/release/11/2026-01/codedit', self::$standIn->lastApiRequest()['path']);
        $this->assertSame('No issue found.', json_decode($this->client->codEdit(['causeOfDeathCodeA' => '1A00']), true)['report']);

        $e = $this->expectFailure(IcdException::HTTP, fn () => $this->client->doris(['causeOfDeathCodeA' => '1A00', 'sex' => 'male']));
        $this->assertSame(400, $e->getHttpStatus());
    }

    /** @return iterable<string, array{array<array-key, mixed>, string}> */
    public static function badCertificates(): iterable
    {
        yield 'a misspelt field' => [['causeOfDeathCodeA1' => '1A00'], 'did you mean causeOfDeathCodeA?'];
        yield 'a field in the wrong case' => [['causeOfDeathCodeA' => '1A00', 'Sex' => 1], 'did you mean sex?'];
        yield 'no cause' => [['sex' => 1, 'intervalA' => 'P1D'], 'no cause of death'];
        yield 'nothing' => [[], 'no cause of death'];
        yield 'only null causes' => [['causeOfDeathCodeA' => null], 'no cause of death'];
        yield 'a list' => [['causeOfDeathCodeA', '1A00'], 'key 0 is not a field name'];
        yield 'an array value' => [['causeOfDeathCodeA' => ['1A00']], "certificate field 'causeOfDeathCodeA' is array"];
    }

    /**
     * @dataProvider badCertificates
     * @param array<array-key, mixed> $certificate
     */
    public function testBadCertificatesAreRefusedBeforeAnythingIsSent(array $certificate, string $why): void
    {
        foreach (['doris', 'codEdit', 'dorisArray', 'codEditArray'] as $method) {
            $e = $this->expectFailure(IcdException::INVALID_ARGUMENT, fn () => $this->client->$method($certificate));
            $this->assertStringContainsString($why, $e->getMessage());
            $this->assertStringContainsString('nothing was sent', $e->getMessage());
        }
        $this->assertSame([], self::$standIn->log());
    }
}
