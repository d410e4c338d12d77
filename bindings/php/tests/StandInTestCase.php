<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\Client;
use IcdApi\IcdException;
use PHPUnit\Framework\TestCase;

/**
 * A test class against one local stand-in of the WHO API, started for the class; each test gets
 * new credentials (so that it can count the tokens it causes) and a cloud client of its own.
 */
abstract class StandInTestCase extends TestCase
{
    protected const SECRET_MARK = 'SeCrEt-must-not-leak-7f3a';

    protected static StandIn $standIn;
    protected Client $client;

    public static function setUpBeforeClass(): void
    {
        static::$standIn = new StandIn();
    }

    public static function tearDownAfterClass(): void
    {
        static::$standIn->stop();
    }

    protected function setUp(): void
    {
        static::$standIn->newTest();
        $this->client = $this->cloudClient();
    }

    protected function cloudClient(string $secret = StandIn::CLIENT_SECRET): Client
    {
        $client = Client::cloud(static::$standIn->clientId, $secret);
        $client->setApiBase(static::$standIn->url);
        $client->setTokenEndpoint(static::$standIn->url . '/connect/token');
        return $client;
    }

    /** Runs $call and returns the IcdException it must throw, whose message holds no secret. */
    protected function expectFailure(int $status, callable $call): IcdException
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

    protected static function rssKiB(): int
    {
        preg_match('/^VmRSS:\s+(\d+)\s+kB/m', (string) file_get_contents('/proc/self/status'), $m);
        return (int) ($m[1] ?? 0);
    }
}
