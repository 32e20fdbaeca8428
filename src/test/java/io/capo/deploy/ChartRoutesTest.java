package io.capo.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The chart ships copies of the project's routes/ (Helm reads files only inside the chart): they must not drift. */
class ChartRoutesTest {

    @Test
    void chartRoutesAreIdenticalToTheProjectRoutes() throws IOException {
        Path root = ChartRenderer.projectRoot();
        Map<String, String> project = files(root.resolve("routes"));
        assertThat(project).isNotEmpty();
        assertThat(files(root.resolve("helm/capo/routes")))
                .as("helm/capo/routes must equal routes/: cp routes/*.yaml helm/capo/routes/")
                .isEqualTo(project);
    }

    private static Map<String, String> files(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.filter(Files::isRegularFile).toList()) {
                files.put(file.getFileName().toString(), Files.readString(file));
            }
        }
        return files;
    }
}
