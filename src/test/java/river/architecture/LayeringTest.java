package river.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The package rules of docs/architecture.md, checked on the compiled classes. */
class LayeringTest {
    private static final JavaClasses RIVER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("river");

    @Test
    void kdlParserKnowsNothingOfRiver() {
        noClasses().that().resideInAPackage("river.kdl..")
                .should().dependOnClassesThat().resideInAnyPackage("river.config..", "river.cli..", "river.server..",
                        "river.http..", "river.proxy..", "river.upstream..", "river.balance..", "river.modules..",
                        "river.observe..", "river.service..")
                .check(RIVER);
    }

    @Test
    void headerBlocksKnowNothingOfRiver() {
        noClasses().that().resideInAPackage("river.headers..")
                .should().dependOnClassesThat().resideInAnyPackage("river.config..", "river.cli..", "river.server..",
                        "river.http..", "river.proxy..", "river.upstream..", "river.balance..", "river.modules..",
                        "river.observe..", "river.service..", "river.kdl..")
                .check(RIVER);
    }

    @Test
    void configurationDependsOnlyOnTheKdlParser() {
        noClasses().that().resideInAPackage("river.config..")
                .should().dependOnClassesThat().resideInAnyPackage("river.cli..", "river.server..", "river.http..",
                        "river.proxy..", "river.upstream..", "river.balance..", "river.modules..", "river.observe..",
                        "river.service..")
                .check(RIVER);
    }

    @Test
    void engineKnowsNoFeatureNoConfigAndNoCodec() {
        noClasses().that().resideInAPackage("river.proxy..")
                .should().dependOnClassesThat().resideInAnyPackage("river.config..", "river.modules..", "river.balance..",
                        "river.http..", "river.server..", "river.service..", "river.observe..", "river.cli..")
                .check(RIVER);
    }

    @Test
    void upstreamPoolStandsAlone() {
        noClasses().that().resideInAPackage("river.upstream..")
                .should().dependOnClassesThat().resideInAnyPackage("river.config..", "river.proxy..", "river.modules..",
                        "river.balance..", "river.http..", "river.server..", "river.service..", "river.cli..")
                .check(RIVER);
    }

    @Test
    void codecsDoNotReachIntoConfigurationOrFeatures() {
        noClasses().that().resideInAPackage("river.http..")
                .should().dependOnClassesThat().resideInAnyPackage("river.config..", "river.modules..", "river.balance..",
                        "river.service..", "river.cli..", "river.server..")
                .check(RIVER);
    }

    @Test
    void modulesDoNotImportEachOther() {
        noClasses().that().resideInAPackage("river.modules.files..")
                .should().dependOnClassesThat().resideInAPackage("river.modules.filters..").check(RIVER);
        noClasses().that().resideInAPackage("river.modules.filters..")
                .should().dependOnClassesThat().resideInAPackage("river.modules.files..").check(RIVER);
    }

    @Test
    void onlyWiringSeesBothConfigurationAndRuntime() {
        noClasses().that().resideOutsideOfPackages("river.service..", "river.cli..")
                .should().dependOnClassesThat().resideInAPackage("river.service..")
                .check(RIVER);
    }

    @Test
    void nothingDependsOnTheCommandLine() {
        noClasses().that().resideOutsideOfPackage("river.cli..")
                .should().dependOnClassesThat().resideInAPackage("river.cli..")
                .check(RIVER);
    }
}
