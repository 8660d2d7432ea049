package river.kdl;

/** The two published versions of the KDL language. */
public enum KdlVersion {
    V1,
    V2
}
