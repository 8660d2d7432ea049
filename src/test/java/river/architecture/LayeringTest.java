package river.architecture;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The package table of docs/architecture.md, checked on the compiled classes. {@link #MAY_USE} is that table's
 * "may use" column word for word, so a new dependency means editing the doc and this table together (the doc test
 * fails otherwise); every rule below is generated from it.
 */
class LayeringTest {
    private static final JavaClasses RIVER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("river");

    private static final String NOTHING = "—";
    private static final String ALL_BUT_CLI = "everything but cli and admin";

    /** Package → the River packages it may use (anything outside River is free), in the doc's order and words. */
    private static final Map<String, String> MAY_USE = table(
            "river.cli", "admin, config, server, service",
            "river.admin", "config, server, service, observe",
            "river.kdl", NOTHING,
            "river.headers", NOTHING,
            "river.codec", NOTHING,
            "river.config", "kdl",
            "river.server", "config",
            "river.http", "headers, codec, proxy",
            "river.proxy", "headers, upstream",
            "river.upstream", "headers, codec",
            "river.balance", "upstream",
            "river.health", "balance, upstream",
            "river.discovery", "balance, upstream",
            "river.modules.*", "headers, proxy, config, upstream",
            "river.observe", "proxy, upstream",
            "river.acme", "config, server, observe",
            "river.service", ALL_BUT_CLI);

    @TestFactory
    Stream<DynamicTest> eachPackageUsesOnlyWhatItsRowAllows() {
        return MAY_USE.entrySet().stream().map(row -> dynamicTest(row.getKey() + " may use " + row.getValue(),
                () -> mayUseOnly(row.getKey(), row.getValue()).check(RIVER)));
    }

    @Test
    void modulesNeverUseEachOther() {
        slices().matching("river.modules.(*)..").should().notDependOnEachOther().check(RIVER);
    }

    @Test
    void noPackageCycles() {
        // Each module is its own slice, so a cycle through two modules and the engine is not hidden inside "modules".
        slices().assignedFrom(new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
                return SliceIdentifier.of(slice(javaClass.getPackageName()));
            }

            @Override
            public String getDescription() {
                return "River's packages, one slice per module";
            }
        }).should().beFreeOfCycles().check(RIVER);
    }

    /** A package without a row would be unchecked, and a row without a package is stale. */
    @Test
    void everyPackageHasExactlyOneRow() {
        TreeSet<String> inCode = RIVER.stream().map(c -> row(c.getPackageName()))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(MAY_USE.keySet()), inCode);
    }

    @Test
    void docStatesTheSameTable() throws IOException {
        Pattern tableRow = Pattern.compile("^\\| `(river\\.[^`]+)` \\|.*\\| ([^|]+) \\|$");
        Map<String, String> doc = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("docs/architecture.md"))) {
            Matcher m = tableRow.matcher(line);
            if (m.matches()) {
                doc.put(m.group(1), m.group(2).trim());
            }
        }
        assertEquals(List.copyOf(MAY_USE.entrySet()), List.copyOf(doc.entrySet()));
    }

    private static ArchRule mayUseOnly(String pkg, String mayUse) {
        List<String> allowed = new ArrayList<>();
        allowed.add(pattern(pkg));
        for (String used : packages(mayUse)) {
            allowed.add(pattern(used));
        }
        return classes().that().resideInAPackage(pattern(pkg))
                .should().onlyDependOnClassesThat(resideOutsideOfPackage("river..")
                        .or(resideInAnyPackage(allowed.toArray(String[]::new))));
    }

    private static List<String> packages(String mayUse) {
        if (mayUse.equals(NOTHING)) {
            return List.of();
        }
        if (mayUse.equals(ALL_BUT_CLI)) {
            return MAY_USE.keySet().stream().filter(p -> !p.equals("river.cli") && !p.equals("river.admin")).toList();
        }
        return Arrays.stream(mayUse.split(", ")).map(p -> "river." + p).toList();
    }

    /** "river.modules.*" and "river.proxy" as ArchUnit package patterns. */
    private static String pattern(String pkg) {
        return pkg.endsWith(".*") ? pkg.substring(0, pkg.length() - 2) + ".." : pkg + "..";
    }

    /** river.x for river.x.y; river.modules.z for river.modules.z.y. */
    private static String slice(String packageName) {
        String[] parts = packageName.split("\\.");
        int depth = parts.length > 2 && parts[1].equals("modules") ? 3 : 2;
        return String.join(".", Arrays.copyOf(parts, Math.min(depth, parts.length)));
    }

    private static String row(String packageName) {
        String slice = slice(packageName);
        return slice.startsWith("river.modules.") ? "river.modules.*" : slice;
    }

    private static Map<String, String> table(String... cells) {
        Map<String, String> rows = new LinkedHashMap<>();
        for (int i = 0; i < cells.length; i += 2) {
            rows.put(cells[i], cells[i + 1]);
        }
        return rows;
    }
}
