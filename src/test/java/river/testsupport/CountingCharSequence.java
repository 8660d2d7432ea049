package river.testsupport;

/** Text that counts the characters read from it, to bound how much work a pass over many names does. */
public final class CountingCharSequence implements CharSequence {
    private final String text;
    private long reads;

    public CountingCharSequence(String text) {
        this.text = text;
    }

    /** Characters read through {@link #charAt} since the last {@link #resetReads}. */
    public long reads() {
        return reads;
    }

    public void resetReads() {
        reads = 0;
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public char charAt(int index) {
        reads++;
        return text.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return text.subSequence(start, end);
    }

    @Override
    public String toString() {
        return text;
    }
}
