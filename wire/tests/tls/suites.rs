use wire::tls::{TLS12_SUITES, TLS13_SUITES, Version, suite, suite_name, version_name};

#[test]
fn suites_are_named_by_iana_or_by_code() {
    assert_eq!(
        suite_name(0xc02b),
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    );
    assert_eq!(suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
    assert_eq!(suite_name(0xabcd), "0xabcd");
    assert_eq!(version_name(0x0303), "TLS 1.2");
    assert_eq!(version_name(0x7f1c), "0x7f1c");
}

#[test]
fn the_catalogue_has_no_duplicate_and_consistent_flags() {
    let all: Vec<_> = TLS12_SUITES.iter().chain(TLS13_SUITES).collect();
    for (i, s) in all.iter().enumerate() {
        assert!(all[..i].iter().all(|t| t.code != s.code), "{}", s.name);
        assert_eq!(suite(s.code), Some(*s));
        let ephemeral = s.name.contains("_ECDHE_") || s.name.contains("_DHE_");
        let tls13 = TLS13_SUITES.contains(s);
        assert_eq!(s.forward_secret, ephemeral || tls13, "{}", s.name);
        let aead = ["_GCM_", "_CCM", "_CHACHA20_POLY1305_"]
            .iter()
            .any(|a| s.name.contains(a));
        assert_eq!(s.aead, aead, "{}", s.name);
    }
}

#[test]
fn old_versions_are_not_offered_suites_they_cannot_negotiate() {
    let offered = |v: Version| TLS12_SUITES.iter().filter(move |s| s.usable_with(v));
    assert!(offered(Version::Tls11).all(|s| !s.aead && !s.name.ends_with("SHA256")));
    assert!(offered(Version::Ssl30).any(|s| s.name == "TLS_RSA_WITH_RC4_128_MD5"));
    assert_eq!(offered(Version::Tls12).count(), TLS12_SUITES.len());
    assert_eq!(offered(Version::Tls13).count(), 0);
    assert!(TLS13_SUITES.iter().all(|s| s.usable_with(Version::Tls13)));
}
