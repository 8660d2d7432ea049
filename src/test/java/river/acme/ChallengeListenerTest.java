package river.acme;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import river.config.ListenAddress;
import river.server.Transport;
import river.testsupport.Eventually;

/**
 * The challenge-listener with a lookup that answers later, on another thread (fleet mode's Redis read): the response
 * waits for it without holding the listener's event loop, then is the key authorization or, without one, the redirect.
 */
class ChallengeListenerTest {
    @Test
    void anAnswerThatComesLaterFromAnotherThreadIsWrittenAndAMissRedirects() throws Exception {
        Map<String, CompletableFuture<String>> lookups = new ConcurrentHashMap<>();
        try (ChallengeListener listener = ChallengeListener.bind(new ListenAddress.Tcp("127.0.0.1", 0), Transport.best(),
                token -> lookups.computeIfAbsent(token, t -> new CompletableFuture<>()))) {
            try {
                int port = ((InetSocketAddress) listener.localAddress()).getPort();
                HttpClient http = HttpClient.newHttpClient();
                CompletableFuture<HttpResponse<String>> hit = http.sendAsync(request(port, "/.well-known/acme-challenge/tok1"),
                        HttpResponse.BodyHandlers.ofString());
                CompletableFuture<HttpResponse<String>> miss = http.sendAsync(request(port, "/.well-known/acme-challenge/tok2"),
                        HttpResponse.BodyHandlers.ofString());
                Eventually.await(() -> lookups.size() == 2, 10_000);
                // While both wait, the listener's one event loop still answers others.
                HttpResponse<String> other = http.send(request(port, "/page"), HttpResponse.BodyHandlers.ofString());
                assertThat(other.statusCode()).isEqualTo(308);
                assertThat(hit).isNotDone();

                completeFromAnotherThread(lookups.get("tok1"), "tok1.thumbprint");
                completeFromAnotherThread(lookups.get("tok2"), null);
                assertThat(hit.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
                assertThat(hit.get().body()).isEqualTo("tok1.thumbprint");
                assertThat(miss.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(308);
                assertThat(miss.get().headers().firstValue("location")).contains("https://127.0.0.1/.well-known/acme-challenge/tok2");
            } finally {
                lookups.values().forEach(lookup -> lookup.complete(null)); // never leave the listener's loop waiting
            }
        }
    }

    private static HttpRequest request(int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).version(HttpClient.Version.HTTP_1_1)
                .timeout(java.time.Duration.ofSeconds(10)).build();
    }

    private static void completeFromAnotherThread(CompletableFuture<String> lookup, String answer) throws InterruptedException {
        Thread redis = new Thread(() -> lookup.complete(answer));
        redis.start();
        redis.join(10_000);
    }
}
