package river.acme;

import java.security.Security;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

/** acme4j makes keys, CSRs and challenge certificates with BouncyCastle's provider ("BC"): registered once, last in the list. */
final class Bouncy {
    private Bouncy() {}

    static synchronized void register() {
        if (Security.getProvider(BouncyCastleProvider.PROVIDER_NAME) == null) {
            Security.addProvider(new BouncyCastleProvider());
        }
    }
}
