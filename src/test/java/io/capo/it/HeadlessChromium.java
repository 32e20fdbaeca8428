package io.capo.it;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Debian's {@code chromium} driven through its {@code chromedriver} (packages {@code chromium} and
 * {@code chromium-driver}, which .ci/run installs): headless, without the sandbox (CI runs as root), with a profile
 * of its own. Selenium Manager is never asked for a browser or a driver: both come from this machine.
 *
 * <p>Missing binaries fail the test in CI (env {@code CI=true} or {@code -Dcapo.it.requireBrowser=true}, which
 * .ci/run sets) and skip it elsewhere. {@code -Dcapo.it.chromium} and {@code -Dcapo.it.chromedriver} point at other
 * binaries.
 */
final class HeadlessChromium {

    private static final Logger LOG = LoggerFactory.getLogger(HeadlessChromium.class);

    static final List<String> CHROMIUM = List.of("/usr/bin/chromium", "/usr/lib/chromium/chromium",
            "/usr/bin/chromium-browser");
    static final List<String> CHROMEDRIVER = List.of("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");

    private HeadlessChromium() {
    }

    /** Both binaries, or fails (CI) or skips (elsewhere) with what is missing and how to install it. */
    static Path[] requireBinaries() {
        Path chromium = find("capo.it.chromium", CHROMIUM);
        Path driver = find("capo.it.chromedriver", CHROMEDRIVER);
        if (chromium != null && driver != null) {
            return new Path[]{chromium, driver};
        }
        List<String> missing = new ArrayList<>();
        if (chromium == null) {
            missing.add("chromium not found (" + searched("capo.it.chromium", CHROMIUM) + ")");
        }
        if (driver == null) {
            missing.add("chromedriver not found (" + searched("capo.it.chromedriver", CHROMEDRIVER) + ")");
        }
        String message = String.join("; ", missing) + ": apt-get install chromium chromium-driver"
                + " (or -Dcapo.it.chromium=... -Dcapo.it.chromedriver=...)";
        boolean required = "true".equalsIgnoreCase(System.getenv("CI")) || Boolean.getBoolean("capo.it.requireBrowser");
        if (required) {
            throw new IllegalStateException(message + " (required: CI=true or -Dcapo.it.requireBrowser=true)");
        }
        LOG.warn("browser test skipped: {}", message);
        Assumptions.abort(message);
        return null;
    }

    private static Path find(String property, List<String> candidates) {
        String configured = System.getProperty(property);
        if (configured != null && !configured.isBlank()) {
            Path path = Path.of(configured.trim());
            return Files.isExecutable(path) ? path : null;
        }
        return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
    }

    private static String searched(String property, List<String> candidates) {
        String configured = System.getProperty(property);
        return configured != null && !configured.isBlank() ? "-D" + property + "=" + configured.trim()
                : String.join(", ", candidates);
    }

    /** A new headless browser with a 1600x900 window; its profile and chromedriver's log go to {@code workDir}. */
    static ChromeDriver start(Path[] binaries, Path workDir) throws IOException {
        Files.createDirectories(workDir);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(binaries[0].toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1600,900",
                "--user-data-dir=" + Files.createTempDirectory(workDir, "profile"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(binaries[1].toFile()).usingAnyFreePort()
                .withLogFile(new File(workDir.toFile(), "chromedriver.log"))
                .withTimeout(Duration.ofSeconds(60)).build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60)).scriptTimeout(Duration.ofSeconds(30));
        return driver;
    }

    static void screenshot(ChromeDriver driver, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    }
}
