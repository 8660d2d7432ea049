package river.modules.normalize;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The canonical forms, and what is refused, with every check on. */
class PathNormalizerTest {
    final PathNormalizer all = new PathNormalizer(true, true, true, true, true);

    @ParameterizedTest
    @CsvSource({
        "/, /",
        "/index.html, /index.html",
        "/a/b/c, /a/b/c",
        "/static/../admin, /admin",
        "/static/%2E%2E/admin, /admin",
        "/static/%2e%2e/admin, /admin",
        "/static//..///admin, /admin",
        "/a/./b/., /a/b/",
        "/a/b/.., /a/",
        "/%61%62c, /abc",
        "/caf%c3%a9, /caf%C3%A9",
        "/a%20b, /a%20b",
        "//a//b, /a/b",
        "/.well-known/x, /.well-known/x",
        "/a/..., /a/...",
    })
    void canonicalForms(String in, String out) {
        PathNormalizer.Result r = all.normalize(in);
        assertThat(r.problem()).as(in).isNull();
        assertThat(r.path()).as(in).isEqualTo(out);
    }

    @ParameterizedTest
    @CsvSource({
        "/../etc/passwd, above the root",
        "/a/../../b, above the root",
        "/%2e%2e/x, above the root",
        "/a%2Fb, separator",
        "/a%5cb, separator",
        "/a%00b, control",
        "/a%zz, malformed",
        "/a%4, malformed",
    })
    void refused(String in, String why) {
        assertThat(all.normalize(in).problem()).as(in).containsIgnoringCase(why.split(" ")[0].equals("above") ? "root" : why);
    }
}
