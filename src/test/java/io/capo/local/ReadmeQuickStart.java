package io.capo.local;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The quick start as README.md writes it: the run command (the {@code sh} block after
 * {@value #RUN_MARKER}) and the steps between {@value #BEGIN_MARKER} and {@value #END_MARKER}, each an
 * {@code sh} block optionally followed by a {@code text} block with its expected output, where {@code …}
 * stands for any text within a line.
 */
record ReadmeQuickStart(String runCommand, List<Step> steps) {

    static final String RUN_MARKER = "<!-- quickstart:run -->";
    static final String BEGIN_MARKER = "<!-- quickstart:begin -->";
    static final String END_MARKER = "<!-- quickstart:end -->";
    static final String ANY = "…";

    private static final Pattern FENCE = Pattern.compile("^```(\\w*)\\s*$");

    /** One shell block and the output it must print (null: not compared). */
    record Step(String script, String expected) {
    }

    private record Block(String lang, String text) {
    }

    static ReadmeQuickStart parse(String readme) {
        int run = readme.indexOf(RUN_MARKER);
        int begin = readme.indexOf(BEGIN_MARKER);
        int end = readme.indexOf(END_MARKER);
        if (run < 0 || begin < 0 || end < begin) {
            throw new IllegalArgumentException("README.md lacks " + RUN_MARKER + ", or " + BEGIN_MARKER + " ... "
                    + END_MARKER);
        }
        List<Block> runBlocks = blocks(readme.substring(run + RUN_MARKER.length()));
        if (runBlocks.isEmpty() || !runBlocks.get(0).lang().equals("sh")) {
            throw new IllegalArgumentException("no sh block after " + RUN_MARKER);
        }
        List<Step> steps = new ArrayList<>();
        List<Block> blocks = blocks(readme.substring(begin + BEGIN_MARKER.length(), end));
        for (int i = 0; i < blocks.size(); i++) {
            Block block = blocks.get(i);
            if (!block.lang().equals("sh")) {
                throw new IllegalArgumentException("a " + block.lang() + " block without an sh block before it:\n"
                        + block.text());
            }
            String expected = null;
            if (i + 1 < blocks.size() && blocks.get(i + 1).lang().equals("text")) {
                expected = blocks.get(++i).text();
            }
            steps.add(new Step(block.text(), expected));
        }
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("no sh block between " + BEGIN_MARKER + " and " + END_MARKER);
        }
        return new ReadmeQuickStart(runBlocks.get(0).text().strip(), List.copyOf(steps));
    }

    private static List<Block> blocks(String markdown) {
        List<Block> blocks = new ArrayList<>();
        String lang = null;
        StringBuilder text = new StringBuilder();
        for (String line : markdown.split("\n", -1)) {
            Matcher fence = FENCE.matcher(line);
            if (lang == null && fence.matches()) {
                lang = fence.group(1);
                text.setLength(0);
            } else if (lang != null && line.strip().equals("```")) {
                blocks.add(new Block(lang, text.toString()));
                lang = null;
            } else if (lang != null) {
                text.append(line).append('\n');
            }
        }
        return blocks;
    }

    /** Null when the output matches the expected text line by line, else a description of the first difference. */
    static String mismatch(String expected, String actual) {
        List<String> want = lines(expected);
        List<String> got = lines(actual);
        for (int i = 0; i < Math.max(want.size(), got.size()); i++) {
            String w = i < want.size() ? want.get(i) : null;
            String g = i < got.size() ? got.get(i) : null;
            if (w == null || g == null || !pattern(w).matcher(g).matches()) {
                return "line " + (i + 1) + ": expected " + (w == null ? "no more lines" : "\"" + w + "\"")
                        + " but got " + (g == null ? "no more lines" : "\"" + g + "\"");
            }
        }
        return null;
    }

    private static Pattern pattern(String expectedLine) {
        StringBuilder regex = new StringBuilder();
        String[] parts = expectedLine.split(ANY, -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                regex.append(".*?");
            }
            regex.append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(regex.toString());
    }

    private static List<String> lines(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            lines.add(line.stripTrailing());
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return lines;
    }
}
