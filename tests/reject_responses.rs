//! The response-framing lines of the "must reject" list: each malformed TPM response is
//! refused by `commands::parse_response` with its exact error, never a panic.

use baretpm::commands::{
    parse_response, GetCapability, GetRandom, PcrExtend, PcrRead, Quote, ResponseError,
};
use baretpm::types::rc::TpmRc;
use baretpm::types::{TpmlDigestValues, TpmlPcrSelection};
use baretpm::wire::ErrorKind;

fn header(tag: u16, size: u32, rc: u32) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend_from_slice(&size.to_be_bytes());
    v.extend_from_slice(&rc.to_be_bytes());
    v
}

/// A response of `body` after a success header, with the size field filled in.
fn ok_response(tag: u16, body: &[u8]) -> Vec<u8> {
    let mut v = header(tag, (10 + body.len()) as u32, 0);
    v.extend_from_slice(body);
    v
}

fn kind<T: std::fmt::Debug>(r: Result<T, ResponseError>) -> ErrorKind {
    match r {
        Err(ResponseError::Malformed(e)) => e.kind,
        other => panic!("expected a malformed-response error, got {other:?}"),
    }
}

const RANDOM: GetRandom = GetRandom { bytes_requested: 4 };

fn extend() -> PcrExtend<'static> {
    PcrExtend {
        pcr: 14,
        auth: &[],
        digests: TpmlDigestValues::default(),
    }
}

#[test]
fn response_shorter_than_a_header() {
    for n in 0..10 {
        let bytes = &header(0x8001, 10, 0)[..n];
        assert_eq!(
            kind(parse_response(&RANDOM, bytes)),
            ErrorKind::Truncated {
                needed: 10,
                available: n
            },
            "length {n}"
        );
    }
}

#[test]
fn header_size_unequal_to_bytes_received() {
    let mut r = ok_response(0x8001, &[0, 2, 1, 2]);
    r[5] += 1; // claims one byte more than arrived
    assert_eq!(
        kind(parse_response(&RANDOM, &r)),
        ErrorKind::SizeAboveMax { size: 15, max: 14 }
    );
    r[5] -= 2; // claims one byte less
    assert_eq!(
        kind(parse_response(&RANDOM, &r)),
        ErrorKind::SizeAboveMax { size: 13, max: 14 }
    );
    let huge = header(0x8001, u32::MAX, 0);
    assert_eq!(
        kind(parse_response(&RANDOM, &huge)),
        ErrorKind::SizeAboveMax {
            size: u32::MAX as usize,
            max: 10
        }
    );
}

#[test]
fn unknown_tag_and_wrong_session_tag() {
    let r = ok_response(0x8003, &[0, 0]);
    assert_eq!(
        kind(parse_response(&RANDOM, &r)),
        ErrorKind::UnknownValue { value: 0x8003 }
    );
    // Sessions tag answering a command sent without sessions, and the reverse.
    let r = ok_response(0x8002, &[0, 0]);
    assert_eq!(
        kind(parse_response(&RANDOM, &r)),
        ErrorKind::InvalidValue { value: 0x8002 }
    );
    let r = ok_response(0x8001, &[]);
    assert_eq!(
        kind(parse_response(&extend(), &r)),
        ErrorKind::InvalidValue { value: 0x8001 }
    );
}

#[test]
fn error_codes_decode_for_any_value_and_an_error_carries_no_body() {
    for rc in [
        0x101u32,
        0x922,
        0x1c4,
        0x98e,
        0x0b_0143,
        0xffff_ffff,
        0x8000_0000,
    ] {
        match parse_response(&RANDOM, &header(0x8001, 10, rc)) {
            Err(ResponseError::Tpm(got)) => {
                assert_eq!(got, TpmRc(rc));
                assert!(!got.to_string().is_empty());
            }
            other => panic!("{rc:#x}: {other:?}"),
        }
    }
    let mut with_body = header(0x8001, 12, 0x101);
    with_body.extend_from_slice(&[0, 0]);
    assert_eq!(
        kind(parse_response(&RANDOM, &with_body)),
        ErrorKind::TrailingBytes { count: 2 }
    );
}

#[test]
fn parameter_size_beyond_the_data() {
    // PCR_Extend is sent with a password session: parameterSize then the auth area.
    let mut body = 100u32.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 0, 1, 0, 0]);
    let r = ok_response(0x8002, &body);
    assert_eq!(
        kind(parse_response(&extend(), &r)),
        ErrorKind::Truncated {
            needed: 100,
            available: 5
        }
    );
    // parameterSize claims bytes the parameters do not use.
    let mut body = 2u32.to_be_bytes().to_vec();
    body.extend_from_slice(&[0xaa, 0xbb, 0, 0, 1, 0, 0]);
    let r = ok_response(0x8002, &body);
    assert_eq!(
        kind(parse_response(&extend(), &r)),
        ErrorKind::SizedNotConsumed {
            declared: 2,
            unused: 2
        }
    );
    // A well-formed one passes.
    let mut body = 0u32.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 0, 1, 0, 0]);
    assert!(parse_response(&extend(), &ok_response(0x8002, &body)).is_ok());
}

#[test]
fn sized_fields_and_lists_in_responses_are_bounded() {
    // randomBytes larger than TPM2B_DIGEST allows.
    let mut body = vec![0, 65];
    body.extend_from_slice(&[0u8; 65]);
    assert_eq!(
        kind(parse_response(&RANDOM, &ok_response(0x8001, &body))),
        ErrorKind::SizeAboveMax { size: 65, max: 64 }
    );
    // PCR_Read with a TPML_DIGEST count of 9 and a selection count of 0xFFFFFFFF.
    let read = PcrRead {
        selection: TpmlPcrSelection::default(),
    };
    let mut body = 0u32.to_be_bytes().to_vec();
    body.extend_from_slice(&0u32.to_be_bytes());
    body.extend_from_slice(&9u32.to_be_bytes());
    assert_eq!(
        kind(parse_response(&read, &ok_response(0x8001, &body))),
        ErrorKind::CountAboveMax { count: 9, max: 8 }
    );
    let mut body = 0u32.to_be_bytes().to_vec();
    body.extend_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        kind(parse_response(&read, &ok_response(0x8001, &body))),
        ErrorKind::CountAboveMax {
            count: u32::MAX as usize,
            max: 8
        }
    );
    // GetCapability with a moreData of 2 and with an unknown capability.
    let cap = GetCapability {
        capability: 6,
        property: 0,
        property_count: 1,
    };
    assert_eq!(
        kind(parse_response(
            &cap,
            &ok_response(0x8001, &[2, 0, 0, 0, 6, 0, 0, 0, 0])
        )),
        ErrorKind::InvalidValue { value: 2 }
    );
    assert_eq!(
        kind(parse_response(
            &cap,
            &ok_response(0x8001, &[0, 0, 0, 0, 0x42, 0, 0, 0, 0])
        )),
        ErrorKind::Unsupported { value: 0x42 }
    );
}

#[test]
fn a_quote_response_with_a_short_attestation_is_refused() {
    let quote = Quote {
        sign_handle: 0x8000_0000,
        sign_auth: &[],
        qualifying_data: &[],
        pcr_select: TpmlPcrSelection::default(),
    };
    // parameterSize, then TPM2B_ATTEST of 6 bytes holding only a magic and a type.
    let mut params = vec![0, 6, 0xff, 0x54, 0x43, 0x47, 0x80, 0x18];
    params.extend_from_slice(&[0x00, 0x10]); // TPMT_SIGNATURE NULL
    let mut body = (params.len() as u32).to_be_bytes().to_vec();
    body.extend_from_slice(&params);
    body.extend_from_slice(&[0, 0, 1, 0, 0]);
    let e = match parse_response(&quote, &ok_response(0x8002, &body)) {
        Err(ResponseError::Malformed(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        e.kind,
        ErrorKind::Truncated {
            needed: 2,
            available: 0
        }
    );
    assert_eq!(e.what, "TPMS_ATTEST.qualifiedSigner");
    assert_eq!(
        e.offset,
        10 + 4 + 2 + 6,
        "offsets count from the start of the response"
    );
}
