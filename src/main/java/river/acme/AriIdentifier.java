package river.acme;

import java.security.cert.X509Certificate;
import java.util.Base64;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;

/**
 * A certificate's identifier in ACME Renewal Information (RFC 9773 §4.1): the base64url of its Authority Key
 * Identifier's {@code keyIdentifier}, a period, and the base64url of its serial number's DER content bytes, both
 * unpadded. It names the certificate in the renewalInfo URL and in a new order's {@code replaces}.
 */
final class AriIdentifier {
    private static final Base64.Encoder BASE64URL = Base64.getUrlEncoder().withoutPadding();

    private AriIdentifier() {}

    /** The identifier; fails when the certificate has no Authority Key Identifier with a keyIdentifier (RFC 5280 requires one). */
    static String of(X509Certificate certificate) {
        byte[] extension = certificate.getExtensionValue(Extension.authorityKeyIdentifier.getId());
        if (extension == null) {
            throw new IllegalArgumentException("the certificate has no Authority Key Identifier extension");
        }
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.getInstance(ASN1OctetString.getInstance(extension).getOctets());
        byte[] keyIdentifier = aki.getKeyIdentifier();
        if (keyIdentifier == null) {
            throw new IllegalArgumentException("the certificate's Authority Key Identifier has no keyIdentifier");
        }
        // BigInteger's two's-complement bytes are exactly DER's INTEGER content (a leading 0 for a high first bit).
        return BASE64URL.encodeToString(keyIdentifier) + "." + BASE64URL.encodeToString(certificate.getSerialNumber().toByteArray());
    }
}
