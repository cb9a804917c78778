use wire::tls::{
    ClientHelloSpec, TLS12_SUITES, TLS13_SUITES, Version, WireError, client_hello,
    parse_client_hello,
};

fn spec(version: Version, sni: Option<&str>) -> ClientHelloSpec {
    let suites = if version == Version::Tls13 {
        TLS13_SUITES
    } else {
        TLS12_SUITES
    };
    ClientHelloSpec {
        version,
        suites: suites.iter().map(|s| s.code).collect(),
        sni: sni.map(str::to_owned),
    }
}

#[test]
fn every_version_reads_back_with_its_suites_and_server_name() {
    for version in Version::ALL {
        let sent = spec(version, Some("probe.test"));
        let hello = parse_client_hello(&client_hello(&sent)).unwrap();
        assert_eq!(hello.highest_version(), Some(version), "{version}");
        assert_eq!(hello.cipher_suites, sent.suites, "{version}");
        assert_eq!(hello.sni.as_deref(), Some("probe.test"), "{version}");
        assert!(hello.alpn.is_empty());
    }
}

#[test]
fn tls13_hides_behind_tls12_and_names_itself_in_supported_versions() {
    let hello = parse_client_hello(&client_hello(&spec(Version::Tls13, None))).unwrap();
    assert_eq!(hello.record_version, 0x0301);
    assert_eq!(hello.legacy_version, 0x0303);
    assert_eq!(hello.supported_versions, Some(vec![0x0304]));
    assert_eq!(hello.sni, None);
}

#[test]
fn older_versions_name_themselves_in_legacy_version_only() {
    for (version, record_version) in [
        (Version::Ssl30, 0x0300),
        (Version::Tls10, 0x0301),
        (Version::Tls11, 0x0301),
        (Version::Tls12, 0x0301),
    ] {
        let hello = parse_client_hello(&client_hello(&spec(version, None))).unwrap();
        assert_eq!(hello.record_version, record_version, "{version}");
        assert_eq!(hello.legacy_version, version.code(), "{version}");
        assert_eq!(hello.supported_versions, None, "{version}");
    }
}

#[test]
fn no_hello_has_a_length_that_makes_buggy_servers_hang() {
    for version in Version::ALL {
        for name_len in 0..300 {
            let name = "a".repeat(name_len);
            let record = client_hello(&spec(version, (name_len > 0).then_some(&name)));
            let message_len = record.len() - 5;
            assert!(
                !(256..512).contains(&message_len),
                "{version} with a {name_len}-byte name: {message_len}"
            );
            parse_client_hello(&record).unwrap();
        }
    }
}

#[test]
fn a_hello_split_across_records_reads_as_one() {
    let record = client_hello(&spec(Version::Tls12, Some("probe.test")));
    let message = &record[5..];
    let mut split = Vec::new();
    for fragment in message.chunks(7) {
        split.extend_from_slice(&[22, 3, 1, 0, fragment.len() as u8]);
        split.extend_from_slice(fragment);
    }
    let hello = parse_client_hello(&split).unwrap();
    assert_eq!(hello.sni.as_deref(), Some("probe.test"));
    assert_eq!(hello.highest_version(), Some(Version::Tls12));
}

/// A TLS 1.2 hello without `supported_versions` names only its highest version: a server may
/// answer it with TLS 1.0 or 1.1, so it is not read as "TLS 1.2 only".
#[test]
fn a_hello_without_supported_versions_lets_the_server_go_lower() {
    let hello = parse_client_hello(&client_hello(&spec(Version::Tls12, None))).unwrap();
    assert_eq!(hello.supported_versions, None);
    assert_eq!(
        hello.offered_versions(),
        vec![
            Version::Ssl30,
            Version::Tls10,
            Version::Tls11,
            Version::Tls12
        ]
    );
}

#[test]
fn grease_and_unknown_versions_are_not_offered_versions() {
    let mut hello = parse_client_hello(&client_hello(&spec(Version::Tls13, None))).unwrap();
    hello.supported_versions = Some(vec![0x3a3a, 0x0304, 0x7f1c, 0x0303]);
    assert_eq!(
        hello.offered_versions(),
        vec![Version::Tls13, Version::Tls12]
    );
}

#[test]
fn a_client_speaking_http_is_told_apart_from_a_short_read() {
    assert_eq!(
        parse_client_hello(b"GET / HTTP/1.1\r\n"),
        Err(WireError::NotHandshake { content_type: b'G' })
    );
    assert_eq!(parse_client_hello(&[22, 3, 1]), Err(WireError::Truncated));
    assert_eq!(parse_client_hello(&[]), Err(WireError::Truncated));
    assert_eq!(
        parse_client_hello(&[22, 3, 1, 0, 4, 2, 0, 0, 0]),
        Err(WireError::UnexpectedMessage { msg_type: 2 })
    );
}
