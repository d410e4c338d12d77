<?php
/*
 * Autoloading without Composer (PSR-4, as composer.json declares it), so the tests run with
 * nothing but PHP and phpunit: phpunit --bootstrap bindings/php/tests/bootstrap.php bindings/php/tests
 * With Composer, vendor/autoload.php does the same.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    foreach (['IcdApi\\Tests\\' => __DIR__ . '/', 'IcdApi\\' => dirname(__DIR__) . '/src/'] as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
