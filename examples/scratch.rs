use baretpm::types::*;
use baretpm::wire::Unmarshal;
fn main() {
    for p in std::env::args().skip(1) {
        let b = std::fs::read(&p).unwrap();
        let kind = if p.ends_with("sig.bin")
            || p.ends_with("quotesig.out")
            || p.ends_with("tpmt_signature.bin")
            || p.contains("Signature")
        {
            "sig"
        } else if p.ends_with("akpub.bin") || p.ends_with("pubArea.bin") {
            "tpmt"
        } else if p.ends_with(".pub") || p.ends_with("tpm2b_public.bin") {
            "tpm2b"
        } else {
            "attest"
        };
        let r = match kind {
            "sig" => TpmtSignature::from_bytes(&b).map(|s| format!("{:?}", s.sig_alg())),
            "tpmt" => Tpm2bPublic::from_tpmt_bytes(&b).map(|p| {
                format!(
                    "{:?} name={}",
                    p.public_area.type_alg(),
                    hex::encode(p.name().unwrap().as_bytes())
                )
            }),
            "tpm2b" => Tpm2bPublic::from_bytes(&b).map(|p| {
                format!(
                    "{:?} name={}",
                    p.public_area.type_alg(),
                    hex::encode(p.name().unwrap().as_bytes())
                )
            }),
            _ => TpmsAttest::from_bytes(&b)
                .map(|a| format!("{} nonce={:?}", a.attested.type_name(), a.extra_data)),
        };
        println!("{p}: {kind} {r:?}");
    }
}
