use baretpm::types::*;
use baretpm::verify::*;
use baretpm::wire::Unmarshal;
fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let (akp, q, s, pj, nonce, allow_sha1) = (
        &a[0],
        &a[1],
        &a[2],
        &a[3],
        a.get(4).cloned().unwrap_or_default(),
        a.get(5).is_some(),
    );
    let akb = std::fs::read(akp).unwrap();
    let (ak, fmt) = Ak::from_any(&akb).unwrap();
    let qb = std::fs::read(q).unwrap();
    let sb = std::fs::read(s).unwrap();
    let att = TpmsAttest::from_bytes(&qb).unwrap();
    let sel = att.quote().unwrap().pcr_select.clone();
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(pj).unwrap()).unwrap();
    let mut store: Vec<Vec<u8>> = vec![];
    for (h, i) in sel.iter_pcrs() {
        let bank = if j.get("pcrs").is_some() {
            &j["pcrs"]
        } else {
            j.as_object()
                .unwrap()
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(h.name()))
                .unwrap()
                .1
        };
        store.push(hex::decode(bank[&i.to_string()].as_str().unwrap()).unwrap());
    }
    let mut pv = PcrValues {
        selection: sel,
        values: Default::default(),
    };
    for v in &store {
        pv.values.push(v).unwrap();
    }
    let nonce = hex::decode(nonce).unwrap();
    let policy = Policy {
        allow_sha1,
        allow_empty_nonce: nonce.is_empty(),
        ..Default::default()
    };
    let e = Expectations {
        nonce: &nonce,
        pcrs: &pv,
        previous: None,
        ak_parent_qualified_name: None,
    };
    println!(
        "{fmt:?} {:?}",
        verify_quote(&ak, &qb, &sb, &e, &policy).map(|v| v.signing_hash)
    );
}
