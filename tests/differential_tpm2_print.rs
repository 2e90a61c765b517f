//! Differential test: tpm2-tools' `tpm2_print` (5.4, over libtss2-mu 3.2.1) and baretpm's own
//! parsers read the same bytes; every field either prints must be the same.
//!
//! `tpm2_print` 5.4 knows four types (`TPMS_ATTEST`, `TPMS_CONTEXT`, `TPM2B_PUBLIC`,
//! `TPMT_PUBLIC`; a TPMT_SIGNATURE is "Unknown file type"). Three of them apply to the vectors:
//! every TPMS_ATTEST and every TPM2B_PUBLIC / TPMT_PUBLIC under `vectors/` goes through both,
//! and `-f pem` of each public area is compared with the key baretpm builds from it.
//!
//! Its output is indented `key: value` lines; [`Printed`] reads them into dotted paths
//! (`clockInfo.resetCount`, `attested.quote.pcrSelect.pcrSelections.0.hash`). Each comparison
//! marks the printed line as used, and each file must use every printed line and reach a floor
//! of compared fields, so neither side can print or decode something the test does not look at.
//!
//! Where the two disagree, a test named after the disagreement asserts both behaviours
//! (`tpm2_print_ignores_trailing_bytes_we_refuse`, ...). Reading the FACTS.md claim about
//! libtss2-mu against tpm2_print: libtss2-mu does unmarshal a zeroed magic (tpm2_print prints
//! `magic: 00000000` from the unmarshalled struct), but tpm2_print then refuses it itself.
//!
//! When `tpm2_print` cannot be run at all each test says so on stderr and returns; `.ci/run`
//! installs tpm2-tools, so in CI they run.

use baretpm::types::{
    HashAlg, PublicDetails, Tpm2bPublic, TpmAlgId, TpmEccCurve, TpmaObject, TpmsAttest,
    TpmtEccScheme, TpmtKdfScheme, TpmtKeyedHashScheme, TpmtPublic, TpmtRsaScheme, TpmtSymDefObject,
    TpmuAttest,
};
use baretpm::verify::{Ak, VerifyError};
use baretpm::wire::{ErrorKind, Unmarshal};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// ---------------------------------------------------------------------------------------------
// Running tpm2_print
// ---------------------------------------------------------------------------------------------

/// What one `tpm2_print` run gave.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

enum Input<'a> {
    File(&'a Path),
    /// Written to a temporary file first: tpm2_print 5.4 cannot read a pipe ("Could not parse
    /// TPMS_ATTEST file: \"(null)\""), as its file loaders need a seekable stream.
    Bytes(&'a [u8]),
}

/// `tpm2_print -t TYPE [extra...] FILE`; `None` only when the program cannot be started.
fn tpm2_print(ty: &str, extra: &[&str], input: Input<'_>) -> Option<Run> {
    let tmp;
    let path = match input {
        Input::File(p) => p,
        Input::Bytes(b) => {
            tmp = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(tmp.path(), b).unwrap();
            tmp.path()
        }
    };
    let out = match Command::new("tpm2_print")
        .arg("-t")
        .arg(ty)
        .args(extra)
        .arg(path)
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot run tpm2_print: {e}"),
    };
    Some(Run {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Whether `tpm2_print` can be run; says so on stderr when it cannot. The message goes to the
/// process's stderr directly: `eprintln!` output of a passing test is captured by the test
/// harness and would not be seen without `--nocapture`.
fn available(test: &str) -> bool {
    let found = tpm2_print("TPMS_ATTEST", &[], Input::Bytes(&[])).is_some();
    if !found {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: tpm2_print (tpm2-tools) is not installed; \
             `apt-get install tpm2-tools` (.ci/run does) to run the differential test"
        );
    }
    found
}

fn run(ty: &str, extra: &[&str], input: Input<'_>) -> Run {
    tpm2_print(ty, extra, input).expect("tpm2_print vanished during the test")
}

// ---------------------------------------------------------------------------------------------
// Reading its output
// ---------------------------------------------------------------------------------------------

/// The leaves of tpm2_print's YAML-ish output as `(dotted.path, value)`, in output order.
struct Printed {
    what: String,
    entries: Vec<(String, String)>,
    used: Vec<Cell<bool>>,
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

impl Printed {
    /// `key: value` lines, two spaces per level; `key:` (or `key: `) followed by a deeper line
    /// opens a mapping, otherwise it is a leaf with an empty value (`extraData: `).
    fn parse(what: &str, out: &str) -> Self {
        let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut stack: Vec<(usize, &str)> = Vec::new();
        let mut entries = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let indent = indent_of(line);
            let body = &line[indent..];
            let (key, value) = match body.split_once(": ") {
                Some((k, v)) => (k, v.trim_end()),
                None => (
                    body.strip_suffix(':')
                        .unwrap_or_else(|| panic!("{what}: unexpected line {line:?}")),
                    "",
                ),
            };
            while stack.last().is_some_and(|&(d, _)| d >= indent) {
                stack.pop();
            }
            let path: Vec<&str> = stack.iter().map(|&(_, k)| k).chain([key]).collect();
            let deeper = lines.get(i + 1).is_some_and(|n| indent_of(n) > indent);
            if value.is_empty() && deeper {
                stack.push((indent, key));
            } else {
                entries.push((path.join("."), value.to_string()));
            }
        }
        let used = entries.iter().map(|_| Cell::new(false)).collect();
        Self {
            what: what.to_string(),
            entries,
            used,
        }
    }

    /// The value printed at `path` (marked as compared), or `None` if not printed.
    fn take(&self, path: &str) -> Option<&str> {
        let i = self.entries.iter().position(|(p, _)| p == path)?;
        self.used[i].set(true);
        Some(&self.entries[i].1)
    }

    fn has(&self, path: &str) -> bool {
        self.entries.iter().any(|(p, _)| p == path)
    }

    /// Every printed line was compared with something baretpm decoded.
    fn assert_all_used(&self) {
        let unused: Vec<_> = self
            .entries
            .iter()
            .zip(&self.used)
            .filter(|(_, u)| !u.get())
            .map(|(e, _)| e)
            .collect();
        assert!(
            unused.is_empty(),
            "{}: tpm2_print printed fields the test did not compare: {unused:?}",
            self.what
        );
    }
}

/// Counts field comparisons and names the file and field of any mismatch.
struct Cmp<'p> {
    printed: &'p Printed,
    fields: usize,
}

impl<'p> Cmp<'p> {
    fn new(printed: &'p Printed) -> Self {
        Self { printed, fields: 0 }
    }

    /// tpm2_print's value at `path` must equal `ours`.
    fn eq(&mut self, path: &str, ours: impl AsRef<str>) {
        let ours = ours.as_ref();
        let theirs = self.printed.take(path).unwrap_or_else(|| {
            panic!(
                "{}: tpm2_print printed no `{path}` (baretpm decoded {ours:?}); output: {:?}",
                self.printed.what, self.printed.entries
            )
        });
        assert_eq!(
            theirs, ours,
            "{}: field `{path}`: tpm2_print says {theirs:?}, baretpm decoded {ours:?}",
            self.printed.what
        );
        self.fields += 1;
    }

    /// A field tpm2_print must not print (a union member baretpm says is absent).
    fn absent(&mut self, path: &str) {
        assert!(
            !self.printed.has(path),
            "{}: tpm2_print printed `{path}` = {:?}, which baretpm says is absent",
            self.printed.what,
            self.printed.take(path)
        );
    }

    /// `path.raw` / `path.value` of an algorithm id as tpm2-tools prints it: raw `0x%x`, value
    /// its lower-case name, or `(null)` for 0 (the zeroed union member of a NULL scheme).
    fn alg(&mut self, path: &str, id: u16) {
        self.eq(&format!("{path}.raw"), format!("{id:#x}"));
        self.eq(&format!("{path}.value"), alg_name(id));
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// tpm2-tools' name of an algorithm: baretpm's spec name in lower case (`SHA256` -> `sha256`).
fn alg_name(id: u16) -> String {
    if id == 0 {
        // tpm2_alg_util_algtostr(0) is NULL, which printf shows as "(null)".
        return "(null)".to_string();
    }
    TpmAlgId(id)
        .name()
        .unwrap_or_else(|| panic!("no name for algorithm {id:#x}"))
        .to_ascii_lowercase()
}

/// tpm2-tools' curve names (tpm2_alg_util_ecc_to_str) for the curves the tests use.
fn curve_name(c: TpmEccCurve) -> &'static str {
    match c {
        TpmEccCurve::NIST_P192 => "NIST p192",
        TpmEccCurve::NIST_P224 => "NIST p224",
        TpmEccCurve::NIST_P256 => "NIST p256",
        TpmEccCurve::NIST_P384 => "NIST p384",
        TpmEccCurve::NIST_P521 => "NIST p521",
        TpmEccCurve::BN_P256 => "BN P256",
        TpmEccCurve::BN_P638 => "BN P638",
        TpmEccCurve::SM2_P256 => "SM2 p256",
        other => panic!("no tpm2-tools name known for curve {:#x}", other.0),
    }
}

/// `attributes.value` as tpm2-tools spells it, built from baretpm's TPMA_OBJECT constants:
/// set bits from the lowest up, joined by `|`; bits baretpm calls reserved are
/// `<reserved(N)>`. tpm2-tools 5.4 predates `x509sign` (bit 19) and calls it reserved too.
fn attribute_names(a: TpmaObject) -> String {
    const NAMED: [(u32, &str); 11] = [
        (TpmaObject::FIXED_TPM, "fixedtpm"),
        (TpmaObject::ST_CLEAR, "stclear"),
        (TpmaObject::FIXED_PARENT, "fixedparent"),
        (TpmaObject::SENSITIVE_DATA_ORIGIN, "sensitivedataorigin"),
        (TpmaObject::USER_WITH_AUTH, "userwithauth"),
        (TpmaObject::ADMIN_WITH_POLICY, "adminwithpolicy"),
        (TpmaObject::NO_DA, "noda"),
        (TpmaObject::ENCRYPTED_DUPLICATION, "encryptedduplication"),
        (TpmaObject::RESTRICTED, "restricted"),
        (TpmaObject::DECRYPT, "decrypt"),
        (TpmaObject::SIGN_ENCRYPT, "sign"),
    ];
    if a.0 == 0 {
        return "<none>".to_string();
    }
    (0..32)
        .map(|i| 1u32 << i)
        .filter(|bit| a.0 & bit != 0)
        .map(|bit| match NAMED.iter().find(|(b, _)| *b == bit) {
            Some((_, n)) => n.to_string(),
            None => {
                assert!(
                    bit & TpmaObject::RESERVED != 0 || bit == TpmaObject::X509_SIGN,
                    "bit {bit:#x} is neither named nor reserved in baretpm"
                );
                format!("<reserved({})>", bit.trailing_zeros())
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

// ---------------------------------------------------------------------------------------------
// The vectors
// ---------------------------------------------------------------------------------------------

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn rel(p: &Path) -> String {
    p.strip_prefix(vectors()).unwrap_or(p).display().to_string()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn index() -> Vec<serde_json::Value> {
    let text = std::fs::read(vectors().join("index.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
    v.as_array().unwrap().clone()
}

/// Every TPMS_ATTEST: the `message` of each index.json case, plus any other file under
/// vectors/ that starts with TPM_GENERATED_VALUE (the property-test copies, pcrfiles/), except
/// vectors/bad/, whose files are malformed on purpose (the reject catalogue covers them).
fn attest_files() -> BTreeSet<PathBuf> {
    let mut set: BTreeSet<PathBuf> = index()
        .iter()
        .map(|c| vectors().join(c["message"].as_str().unwrap()))
        .collect();
    let mut all = Vec::new();
    walk(&vectors(), &mut all);
    let bad = vectors().join("bad");
    for p in all.into_iter().filter(|p| !p.starts_with(&bad)) {
        let b = std::fs::read(&p).unwrap();
        if b.starts_with(&TpmsAttest::MAGIC.to_be_bytes()) {
            set.insert(p);
        }
    }
    set
}

/// Every AK public area given in TPM form: index.json's `ak` with `ak_format` tpm2b/tpmt,
/// plus `*.pub` (TPM2B_PUBLIC), `*.tpmt` and `*akpub.bin` (TPMT_PUBLIC) under vectors/.
fn public_files() -> BTreeSet<(PathBuf, &'static str)> {
    let mut set = BTreeSet::new();
    for c in index() {
        let ty = match c["ak_format"].as_str() {
            Some("tpm2b") => "TPM2B_PUBLIC",
            Some("tpmt") => "TPMT_PUBLIC",
            _ => continue,
        };
        set.insert((vectors().join(c["ak"].as_str().unwrap()), ty));
    }
    let mut all = Vec::new();
    walk(&vectors(), &mut all);
    for p in all {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name.ends_with(".pub") {
            set.insert((p, "TPM2B_PUBLIC"));
        } else if name.ends_with(".tpmt") || name.ends_with("akpub.bin") {
            set.insert((p, "TPMT_PUBLIC"));
        }
    }
    set
}

// ---------------------------------------------------------------------------------------------
// TPMS_ATTEST
// ---------------------------------------------------------------------------------------------

/// Compares the header tpm2_print prints for every attestation type.
fn compare_attest_header(c: &mut Cmp<'_>, a: &TpmsAttest<'_>) {
    c.eq("magic", format!("{:08x}", TpmsAttest::MAGIC));
    c.eq("type", format!("{:04x}", a.attested.tag().0));
    c.eq("qualifiedSigner", hex(a.qualified_signer.as_bytes()));
    c.eq("extraData", hex(a.extra_data.as_bytes()));
    c.eq("clockInfo.clock", a.clock_info.clock.to_string());
    c.eq("clockInfo.resetCount", a.clock_info.reset_count.to_string());
    c.eq(
        "clockInfo.restartCount",
        a.clock_info.restart_count.to_string(),
    );
    c.eq("clockInfo.safe", u8::from(a.clock_info.safe).to_string());
    // tpm2_print hexdumps the u64 as it sits in host memory: byte-reversed on x86
    // (see tpm2_print_shows_firmware_version_byte_reversed).
    c.eq("firmwareVersion", hex(&a.firmware_version.to_ne_bytes()));
}

/// Compares the quote body (the only body tpm2_print 5.4 prints).
fn compare_quote(c: &mut Cmp<'_>, a: &TpmsAttest<'_>) {
    let q = a.quote().unwrap();
    let base = "attested.quote";
    let banks = &q.pcr_select.banks();
    c.eq(&format!("{base}.pcrSelect.count"), banks.len().to_string());
    for (i, s) in banks.iter().enumerate() {
        let p = format!("{base}.pcrSelect.pcrSelections.{i}");
        c.eq(
            &format!("{p}.hash"),
            format!("{} ({})", s.hash.alg_id().0, s.hash.name()),
        );
        c.eq(&format!("{p}.sizeofSelect"), s.size_of_select().to_string());
        let bitmap = &s.bitmap().to_le_bytes()[..usize::from(s.size_of_select())];
        c.eq(&format!("{p}.pcrSelect"), hex(bitmap));
    }
    c.eq(&format!("{base}.pcrDigest"), hex(q.pcr_digest.as_bytes()));
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    let p = p.as_ref();
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The body of a non-quote attestation, from what tpm2-tools wrote or the capture recorded,
/// since tpm2_print 5.4 prints no body but a quote's. Returns the number of fields compared.
fn compare_other_body(path: &Path, a: &TpmsAttest<'_>) -> usize {
    let name = path.file_name().unwrap().to_str().unwrap();
    let v = vectors();
    let check = |field: &str, ours: &[u8], reference: &[u8], source: &str| {
        assert_eq!(
            hex(ours),
            hex(reference),
            "{}: {field}: baretpm decoded vs {source}",
            rel(path)
        );
    };
    match &a.attested {
        TpmuAttest::Certify(b) if name == "swtpm-bad-certify.msg" => {
            // tpm2_certify of the `ecc` AK: its Name / qualified Name as tpm2_createak wrote them.
            let src = "swtpm/ecc.ak.name (tpm2_createak -n)";
            check(
                "name",
                b.name.as_bytes(),
                &read(v.join("swtpm/ecc.ak.name")),
                src,
            );
            let src = "swtpm/ecc.ak.qname (tpm2_createak -q)";
            let qn = read(v.join("swtpm/ecc.ak.qname"));
            check("qualifiedName", b.qualified_name.as_bytes(), &qn, src);
            2
        }
        TpmuAttest::Nv(b) if name == "swtpm-bad-nvcertify.msg" => {
            // capture.sh: tpm2_nvdefine 0x01500020 -s 96 -a ownerread|ownerwrite|authread|authwrite,
            // written, then tpm2_nvcertify --size 96 --offset 0. The index Name is
            // sha256 || SHA-256(TPMS_NV_PUBLIC) with TPMA_NV_WRITTEN set after the write.
            let attrs: u32 = (1 << 1) | (1 << 2) | (1 << 17) | (1 << 18) | (1 << 29);
            let mut nv_public = Vec::new();
            nv_public.extend_from_slice(&0x0150_0020u32.to_be_bytes());
            nv_public.extend_from_slice(&TpmAlgId::SHA256.0.to_be_bytes());
            nv_public.extend_from_slice(&attrs.to_be_bytes());
            nv_public.extend_from_slice(&0u16.to_be_bytes()); // authPolicy: empty
            nv_public.extend_from_slice(&96u16.to_be_bytes()); // dataSize
            let index_name = [&[0x00, 0x0b][..], &sha256(&[&nv_public])].concat();
            let src = "Name of the TPMS_NV_PUBLIC capture.sh defined";
            check("indexName", b.index_name.as_bytes(), &index_name, src);
            assert_eq!(b.offset, 0, "{}: offset (--offset 0)", rel(path));
            let data = read(v.join("swtpm/swtpm-bad-nvcertify.nvdata"));
            let src = "swtpm-bad-nvcertify.nvdata (what tpm2_nvwrite wrote)";
            check("nvContents", b.nv_contents.as_bytes(), &data, src);
            3
        }
        TpmuAttest::Creation(b) => {
            // go-attestation: CertifyCreation of the AK; objectName is the AK's Name
            // (sha256 || SHA-256(TPMT_PUBLIC)), creationHash SHA-256 of its TPMS_CREATION_DATA.
            let (stem, creation) = match name.split_once('.') {
                Some((s, "certifycreation.attest.bin")) => (s, format!("{s}.creationdata.bin")),
                Some((s, "akcreation.attest.bin")) => {
                    (s, format!("{s}.akcreation.creationdata.bin"))
                }
                _ => panic!("{}: no reference for this creation attestation", rel(path)),
            };
            let ga = v.join("external/go-attestation");
            let akpub = read(ga.join(format!("{stem}.akpub.bin")));
            let object_name = [&[0x00, 0x0b][..], &sha256(&[&akpub])].concat();
            let src = "sha256 || SHA-256 of the AK's TPMT_PUBLIC";
            check("objectName", b.object_name.as_bytes(), &object_name, src);
            let cd = read(ga.join(creation));
            let src = "SHA-256 of the creation data file";
            check(
                "creationHash",
                b.creation_hash.as_bytes(),
                &sha256(&[&cd]),
                src,
            );
            2
        }
        other => panic!(
            "{}: {} has no reference to compare its body with; add one",
            rel(path),
            other.type_name()
        ),
    }
}

/// Least number of fields compared per attestation (the nine header fields, plus a quote's
/// count, one bank's hash/sizeofSelect/pcrSelect and pcrDigest, or two body fields).
const ATTEST_QUOTE_FLOOR: usize = 9 + 5;
const ATTEST_OTHER_FLOOR: usize = 9 + 2;

#[test]
fn every_vector_attest_matches_tpm2_print() {
    if !available("every_vector_attest_matches_tpm2_print") {
        return;
    }
    let files = attest_files();
    assert!(files.len() >= 38, "only {} TPMS_ATTEST files", files.len());
    let mut total = 0;
    let mut quotes = 0;
    for path in &files {
        let bytes = read(path);
        let a = TpmsAttest::from_bytes(&bytes)
            .unwrap_or_else(|e| panic!("{}: baretpm refuses it: {e:?}", rel(path)));
        let out = run("TPMS_ATTEST", &[], Input::File(path));
        let printed = Printed::parse(&rel(path), &out.stdout);
        let mut c = Cmp::new(&printed);
        compare_attest_header(&mut c, &a);
        let floor = if a.quote().is_some() {
            assert!(out.ok, "{}: tpm2_print failed: {}", rel(path), out.stderr);
            compare_quote(&mut c, &a);
            quotes += 1;
            ATTEST_QUOTE_FLOOR
        } else {
            // tpm2_print 5.4 prints the header, then gives up on any body but a quote's.
            let tag = a.attested.tag().0;
            assert!(!out.ok, "{}: tpm2_print printed a {tag:#x} body", rel(path));
            let msg = format!("Cannot print unsupported type {tag:#x}");
            assert!(
                out.stderr.contains(&msg),
                "{}: tpm2_print said {:?}, expected {msg:?}",
                rel(path),
                out.stderr
            );
            c.fields += compare_other_body(path, &a);
            ATTEST_OTHER_FLOOR
        };
        printed.assert_all_used();
        assert!(
            c.fields >= floor,
            "{}: only {} fields compared",
            rel(path),
            c.fields
        );
        eprintln!("{:>3} fields  {}", c.fields, rel(path));
        total += c.fields;
    }
    eprintln!(
        "TPMS_ATTEST: {} files ({quotes} quotes), {total} fields compared",
        files.len()
    );
}

// ---------------------------------------------------------------------------------------------
// TPMT_PUBLIC / TPM2B_PUBLIC
// ---------------------------------------------------------------------------------------------

fn sym_ids(s: &TpmtSymDefObject) -> (u16, u16, u16) {
    match *s {
        // TPM_ALG_NULL: keyBits and mode are absent, left zero in tss2's union.
        TpmtSymDefObject::Null => (TpmAlgId::NULL.0, 0, 0),
        TpmtSymDefObject::Cipher {
            algorithm,
            key_bits,
            mode,
        } => (algorithm.0, mode.0, key_bits),
    }
}

fn compare_sym(c: &mut Cmp<'_>, s: &TpmtSymDefObject) {
    let (alg, mode, bits) = sym_ids(s);
    c.alg("sym-alg", alg);
    c.alg("sym-mode", mode);
    c.eq("sym-keybits", bits.to_string());
}

fn hash_id(h: HashAlg) -> u16 {
    h.alg_id().0
}

/// Compares every field of a public area; returns nothing, counts in `c`.
fn compare_public(c: &mut Cmp<'_>, p: &TpmtPublic<'_>) {
    c.alg("name-alg", p.name_alg.map_or(TpmAlgId::NULL.0, hash_id));
    c.eq("attributes.raw", format!("{:#x}", p.object_attributes.0));
    c.eq("attributes.value", attribute_names(p.object_attributes));
    c.alg("type", p.type_alg().0);
    match &p.details {
        PublicDetails::Rsa { parms, unique } => {
            // tpm2_print shows exponent 0 as 65537, as effective_exponent() reads it.
            c.eq("exponent", parms.effective_exponent().to_string());
            c.eq("bits", parms.key_bits.to_string());
            let (scheme, halg) = match parms.scheme {
                TpmtRsaScheme::Null => (TpmAlgId::NULL.0, Some(0)),
                TpmtRsaScheme::RsaSsa(h) => (TpmAlgId::RSASSA.0, Some(hash_id(h))),
                TpmtRsaScheme::RsaPss(h) => (TpmAlgId::RSAPSS.0, Some(hash_id(h))),
                TpmtRsaScheme::RsaEs => (TpmAlgId::RSAES.0, None),
                TpmtRsaScheme::Oaep(h) => (TpmAlgId::OAEP.0, Some(hash_id(h))),
            };
            c.alg("scheme", scheme);
            match halg {
                Some(h) => c.alg("scheme-halg", h),
                None => c.absent("scheme-halg"),
            }
            compare_sym(c, &parms.symmetric);
            c.eq("rsa", hex(unique.as_bytes()));
        }
        PublicDetails::Ecc { parms, unique } => {
            c.eq("curve-id.raw", format!("{:#x}", parms.curve_id.0));
            c.eq("curve-id.value", curve_name(parms.curve_id));
            let (kdf, kdf_hash) = match parms.kdf {
                TpmtKdfScheme::Null => (TpmAlgId::NULL.0, 0),
                TpmtKdfScheme::Kdf { scheme, hash } => (scheme.0, hash_id(hash)),
            };
            c.alg("kdfa-alg", kdf);
            c.alg("kdfa-halg", kdf_hash);
            let (scheme, halg, count) = match parms.scheme {
                TpmtEccScheme::Null => (TpmAlgId::NULL.0, 0, None),
                TpmtEccScheme::Ecdsa(h) => (TpmAlgId::ECDSA.0, hash_id(h), None),
                TpmtEccScheme::Ecdaa { hash, count } => {
                    (TpmAlgId::ECDAA.0, hash_id(hash), Some(count))
                }
                TpmtEccScheme::Sm2(h) => (TpmAlgId::SM2.0, hash_id(h), None),
                TpmtEccScheme::EcSchnorr(h) => (TpmAlgId::ECSCHNORR.0, hash_id(h), None),
                TpmtEccScheme::Ecdh(h) => (TpmAlgId::ECDH.0, hash_id(h), None),
                TpmtEccScheme::Ecmqv(h) => (TpmAlgId::ECMQV.0, hash_id(h), None),
            };
            c.alg("scheme", scheme);
            c.alg("scheme-halg", halg);
            match count {
                Some(n) => c.eq("scheme-count", n.to_string()),
                None => c.absent("scheme-count"),
            }
            compare_sym(c, &parms.symmetric);
            c.eq("x", hex(unique.x.as_bytes()));
            c.eq("y", hex(unique.y.as_bytes()));
        }
        PublicDetails::KeyedHash { scheme, unique } => {
            match *scheme {
                TpmtKeyedHashScheme::Null => {
                    c.alg("algorithm", TpmAlgId::NULL.0);
                    c.absent("hash-alg.raw");
                }
                TpmtKeyedHashScheme::Hmac(h) => {
                    c.alg("algorithm", TpmAlgId::HMAC.0);
                    c.alg("hash-alg", hash_id(h));
                }
                TpmtKeyedHashScheme::Xor { hash, kdf } => {
                    c.alg("algorithm", TpmAlgId::XOR.0);
                    c.alg("hash-alg", hash_id(hash));
                    c.alg("kdfa-alg", kdf.0);
                }
            }
            c.eq("keyedhash", hex(unique.as_bytes()));
        }
        PublicDetails::SymCipher { sym, unique } => {
            compare_sym(c, sym);
            c.eq("symcipher", hex(unique.as_bytes()));
        }
    }
    if p.auth_policy.is_empty() {
        c.absent("authorization policy");
    } else {
        c.eq("authorization policy", hex(p.auth_policy.as_bytes()));
    }
}

/// Parses `bytes` as `ty` with baretpm.
fn parse_public<'a>(ty: &str, bytes: &'a [u8]) -> Result<Tpm2bPublic<'a>, baretpm::wire::Error> {
    match ty {
        "TPM2B_PUBLIC" => Tpm2bPublic::from_bytes(bytes),
        "TPMT_PUBLIC" => Tpm2bPublic::from_tpmt_bytes(bytes),
        _ => unreachable!(),
    }
}

/// `tpm2_print -f pem` against the key baretpm builds: the SubjectPublicKeyInfo's algorithm,
/// curve and EC point from the public area, and for the keys baretpm verifies with (RSA,
/// P-256) the whole PEM against `Ak::to_spki_pem`. Returns the fields compared.
fn compare_pem(
    what: &str,
    pem: &str,
    public: &Tpm2bPublic<'_>,
    ak: Result<Ak<'_>, VerifyError>,
) -> usize {
    use spki::der::Decode as _;
    let (label, doc) = spki::Document::from_pem(pem)
        .unwrap_or_else(|e| panic!("{what}: tpm2_print -f pem gave no PEM ({e}): {pem:?}"));
    assert_eq!(label, "PUBLIC KEY", "{what}");
    let info = spki::SubjectPublicKeyInfoRef::from_der(doc.as_bytes()).unwrap();
    let mut fields = 1;
    let rsa_oid = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let ec_oid = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    match &public.public_area().details {
        PublicDetails::Rsa { .. } => {
            assert_eq!(info.algorithm.oid, rsa_oid, "{what}: SPKI algorithm")
        }
        PublicDetails::Ecc { parms, unique } => {
            assert_eq!(info.algorithm.oid, ec_oid, "{what}: SPKI algorithm");
            let curve: spki::ObjectIdentifier = info.algorithm.parameters_oid().unwrap();
            let expected = match parms.curve_id {
                TpmEccCurve::NIST_P256 => "1.2.840.10045.3.1.7",
                TpmEccCurve::NIST_P384 => "1.3.132.0.34",
                other => panic!("{what}: no OID known for curve {:#x}", other.0),
            };
            assert_eq!(curve.to_string(), expected, "{what}: SPKI curve");
            let n = parms.curve_id.coordinate_size().unwrap();
            let pad = |b: &[u8]| [vec![0; n - b.len()], b.to_vec()].concat();
            let point = [vec![4], pad(unique.x.as_bytes()), pad(unique.y.as_bytes())].concat();
            assert_eq!(
                hex(info.subject_public_key.raw_bytes()),
                hex(&point),
                "{what}: SPKI EC point vs baretpm's unique.x/unique.y"
            );
            fields += 2;
        }
        _ => panic!("{what}: tpm2_print -f pem of a non-asymmetric key"),
    }
    match ak {
        Ok(ak) => {
            let ours = ak.to_spki_pem().unwrap();
            assert_eq!(
                pem.trim(),
                ours.trim(),
                "{what}: tpm2_print -f pem vs baretpm's Ak::to_spki_pem"
            );
            fields += 1;
        }
        Err(e) => panic!("{what}: baretpm builds no key: {e:?}"),
    }
    fields
}

/// Least number of fields compared per public area: name-alg, attributes, type (2 each), an
/// RSA key's exponent, bits, scheme (2), scheme-halg (2), sym (5) and modulus.
const PUBLIC_FLOOR: usize = 6 + 12;

#[test]
fn every_vector_public_area_matches_tpm2_print() {
    if !available("every_vector_public_area_matches_tpm2_print") {
        return;
    }
    let files = public_files();
    assert!(files.len() >= 24, "only {} public-area files", files.len());
    let mut total = 0;
    for (path, ty) in &files {
        let what = format!("{} as {ty}", rel(path));
        let bytes = read(path);
        let public = parse_public(ty, &bytes)
            .unwrap_or_else(|e| panic!("{what}: baretpm refuses it: {e:?}"));
        let out = run(ty, &[], Input::File(path));
        assert!(out.ok, "{what}: tpm2_print failed: {}", out.stderr);
        let printed = Printed::parse(&what, &out.stdout);
        let mut c = Cmp::new(&printed);
        compare_public(&mut c, &public.public_area());
        printed.assert_all_used();
        let mut fields = c.fields;
        assert!(
            fields >= PUBLIC_FLOOR,
            "{what}: only {fields} fields compared"
        );

        let pem = run(ty, &["-f", "pem"], Input::File(path));
        assert!(pem.ok, "{what}: tpm2_print -f pem failed: {}", pem.stderr);
        let ak = match *ty {
            "TPM2B_PUBLIC" => Ak::from_tpm2b_public(&bytes),
            _ => Ak::from_tpmt_public(&bytes),
        };
        fields += compare_pem(&what, &pem.stdout, &public, ak);

        // The Name tpm2-tools wrote next to the key (tpm2_createak -n, keylime's ak.name).
        let name_file = path.with_extension("name");
        if name_file.exists() {
            assert_eq!(
                hex(public.name().unwrap().as_bytes()),
                hex(&read(&name_file)),
                "{what}: Name vs {}",
                rel(&name_file)
            );
            fields += 1;
        }
        eprintln!("{fields:>3} fields  {what}");
        total += fields;
    }
    eprintln!(
        "TPM2B_PUBLIC/TPMT_PUBLIC: {} files, {total} fields compared",
        files.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Public areas of the kinds the vectors lack (keyed-hash, symcipher, other schemes)
// ---------------------------------------------------------------------------------------------

/// A hand-assembled TPMT_PUBLIC (big-endian, written here without baretpm's marshaller).
#[derive(Default)]
struct Tpmt(Vec<u8>);

impl Tpmt {
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn tpm2b(self, b: &[u8]) -> Self {
        let mut s = self.u16(b.len() as u16);
        s.0.extend_from_slice(b);
        s
    }
    /// type, nameAlg sha256, attributes, authPolicy.
    fn head(ty: u16, attrs: u32, policy: &[u8]) -> Self {
        Self::default().u16(ty).u16(0x000b).u32(attrs).tpm2b(policy)
    }
}

fn filler(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

const SIGN_KEY: u32 = 0x0004_0072; // fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign
const STORAGE_KEY: u32 = 0x0003_0072; // ...|restricted|decrypt

fn synthetic_publics() -> Vec<(&'static str, Vec<u8>)> {
    let (rsa, ecc, kh, sym) = (0x0001, 0x0023, 0x0008, 0x0025);
    let pol = filler(32, 7);
    vec![
        (
            "keyedhash HMAC-SHA256",
            Tpmt::head(kh, SIGN_KEY, &[])
                .u16(0x0005)
                .u16(0x000b)
                .tpm2b(&filler(32, 1)),
        ),
        (
            "keyedhash XOR-SHA384 KDF1_SP800_108, with authPolicy",
            Tpmt::head(kh, STORAGE_KEY, &pol)
                .u16(0x000a)
                .u16(0x000c)
                .u16(0x0022)
                .tpm2b(&filler(32, 2)),
        ),
        (
            "keyedhash NULL (sealed data)",
            Tpmt::head(kh, 0x0000_0052, &[])
                .u16(0x0010)
                .tpm2b(&filler(32, 3)),
        ),
        (
            "symcipher AES-128-CFB",
            Tpmt::head(sym, 0x0006_0072, &[])
                .u16(0x0006)
                .u16(128)
                .u16(0x0043)
                .tpm2b(&filler(32, 4)),
        ),
        (
            "symcipher CAMELLIA-256-CBC",
            Tpmt::head(sym, 0x0006_0072, &[])
                .u16(0x0026)
                .u16(256)
                .u16(0x0042)
                .tpm2b(&[]),
        ),
        (
            "RSA storage key AES-128-CFB, exponent 0",
            Tpmt::head(rsa, STORAGE_KEY, &[])
                .u16(0x0006)
                .u16(128)
                .u16(0x0043)
                .u16(0x0010)
                .u16(2048)
                .u32(0)
                .tpm2b(&filler(256, 5)),
        ),
        (
            "RSA OAEP-SHA256, exponent 3",
            Tpmt::head(rsa, 0x0002_0072, &[])
                .u16(0x0010)
                .u16(0x0017)
                .u16(0x000b)
                .u16(1024)
                .u32(3)
                .tpm2b(&filler(128, 6)),
        ),
        (
            "RSA RSAES, exponent 65537 explicit",
            Tpmt::head(rsa, 0x0002_0072, &[])
                .u16(0x0010)
                .u16(0x0015)
                .u16(2048)
                .u32(65537)
                .tpm2b(&filler(256, 7)),
        ),
        (
            "RSA PSS-SHA384, x509sign|noda|adminwithpolicy|stclear, authPolicy",
            Tpmt::head(
                rsa,
                SIGN_KEY | (1 << 19) | (1 << 10) | (1 << 7) | (1 << 2),
                &pol,
            )
            .u16(0x0010)
            .u16(0x0016)
            .u16(0x000c)
            .u16(3072)
            .u32(0)
            .tpm2b(&filler(384, 8)),
        ),
        (
            "ECC P-256 ECDAA-SHA256 count 7",
            Tpmt::head(ecc, SIGN_KEY, &[])
                .u16(0x0010)
                .u16(0x001a)
                .u16(0x000b)
                .u16(7)
                .u16(0x0003)
                .u16(0x0010)
                .tpm2b(&filler(32, 9))
                .tpm2b(&filler(32, 10)),
        ),
        (
            "ECC P-384 ECDH-SHA384 with KDF1_SP800_56A-SHA256",
            Tpmt::head(ecc, 0x0002_0072, &[])
                .u16(0x0010)
                .u16(0x0019)
                .u16(0x000c)
                .u16(0x0004)
                .u16(0x0020)
                .u16(0x000b)
                .tpm2b(&filler(48, 11))
                .tpm2b(&filler(48, 12)),
        ),
        (
            "ECC P-256 storage key AES-128-CFB, scheme NULL, encryptedduplication",
            Tpmt::head(ecc, STORAGE_KEY | (1 << 11), &[])
                .u16(0x0006)
                .u16(128)
                .u16(0x0043)
                .u16(0x0010)
                .u16(0x0003)
                .u16(0x0010)
                .tpm2b(&filler(32, 13))
                .tpm2b(&filler(32, 14)),
        ),
        (
            "ECC SM2_P256 SM2-SM3_256, MGF1-SHA512 KDF",
            Tpmt::head(ecc, SIGN_KEY, &[])
                .u16(0x0010)
                .u16(0x001b)
                .u16(0x0012)
                .u16(0x0020)
                .u16(0x0007)
                .u16(0x000d)
                .tpm2b(&filler(32, 15))
                .tpm2b(&filler(32, 16)),
        ),
        (
            "ECC P-256 ECSCHNORR-SHA256",
            Tpmt::head(ecc, SIGN_KEY, &[])
                .u16(0x0010)
                .u16(0x001c)
                .u16(0x000b)
                .u16(0x0003)
                .u16(0x0010)
                .tpm2b(&filler(32, 17))
                .tpm2b(&filler(32, 18)),
        ),
        (
            "ECC BN_P256 ECMQV-SHA256, KDF1_SP800_108-SHA1",
            Tpmt::head(ecc, 0x0002_0072, &[])
                .u16(0x0010)
                .u16(0x001d)
                .u16(0x000b)
                .u16(0x0010)
                .u16(0x0022)
                .u16(0x0004)
                .tpm2b(&filler(32, 19))
                .tpm2b(&filler(32, 20)),
        ),
    ]
    .into_iter()
    .map(|(n, t)| (n, t.0))
    .collect()
}

#[test]
fn synthetic_public_areas_match_tpm2_print() {
    if !available("synthetic_public_areas_match_tpm2_print") {
        return;
    }
    let mut total = 0;
    let cases = synthetic_publics();
    for (name, tpmt) in &cases {
        let tpm2b = [&(tpmt.len() as u16).to_be_bytes()[..], tpmt].concat();
        for (ty, bytes) in [("TPMT_PUBLIC", tpmt.as_slice()), ("TPM2B_PUBLIC", &tpm2b)] {
            let what = format!("{name} as {ty}");
            let public = parse_public(ty, bytes)
                .unwrap_or_else(|e| panic!("{what}: baretpm refuses it: {e:?}"));
            let out = run(ty, &[], Input::Bytes(bytes));
            assert!(out.ok, "{what}: tpm2_print failed: {}", out.stderr);
            let printed = Printed::parse(&what, &out.stdout);
            let mut c = Cmp::new(&printed);
            compare_public(&mut c, &public.public_area());
            printed.assert_all_used();
            assert!(c.fields >= 9, "{what}: only {} fields compared", c.fields);
            eprintln!("{:>3} fields  {what}", c.fields);
            total += c.fields;
        }
    }
    eprintln!(
        "synthetic public areas: {} kinds x 2 encodings, {total} fields compared",
        cases.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Named differences (and agreements) on crafted inputs
// ---------------------------------------------------------------------------------------------

fn quote_msg() -> Vec<u8> {
    read(vectors().join("swtpm/swtpm-rsassa-sha256.msg"))
}

/// Offset of the TPMS_QUOTE_INFO in a TPMS_ATTEST (after magic, type, the two TPM2Bs,
/// TPMS_CLOCK_INFO and firmwareVersion).
fn quote_body_offset(msg: &[u8]) -> usize {
    let t2b = |at: usize| at + 2 + usize::from(u16::from_be_bytes([msg[at], msg[at + 1]]));
    t2b(t2b(6)) + 17 + 8
}

fn err_kind(bytes: &[u8]) -> ErrorKind {
    TpmsAttest::from_bytes(bytes)
        .expect_err("baretpm accepted it")
        .kind
}

#[test]
fn tpm2_print_refuses_zeroed_magic_like_we_do() {
    if !available("tpm2_print_refuses_zeroed_magic_like_we_do") {
        return;
    }
    let mut m = quote_msg();
    m[..4].fill(0);
    assert_eq!(err_kind(&m), ErrorKind::BadMagic { value: 0 });
    let out = run("TPMS_ATTEST", &[], Input::Bytes(&m));
    // libtss2-mu unmarshals it (tpm2_print prints the magic it got back), then tpm2_print's
    // own check refuses it.
    assert!(
        !out.ok,
        "tpm2_print accepted a zeroed magic: {}",
        out.stdout
    );
    assert_eq!(out.stdout.trim(), "magic: 00000000");
    assert!(
        out.stderr
            .contains("Bad magic, got: 0x0, expected: 0xff544347"),
        "{}",
        out.stderr
    );
}

#[test]
fn tpm2_print_ignores_trailing_bytes_we_refuse() {
    if !available("tpm2_print_ignores_trailing_bytes_we_refuse") {
        return;
    }
    let m = quote_msg();
    let clean = run("TPMS_ATTEST", &[], Input::Bytes(&m));
    assert!(clean.ok);
    for extra in [&[0u8][..], b"trailing garbage after a genuine quote"] {
        let long = [&m[..], extra].concat();
        assert_eq!(
            err_kind(&long),
            ErrorKind::TrailingBytes { count: extra.len() }
        );
        let out = run("TPMS_ATTEST", &[], Input::Bytes(&long));
        assert!(out.ok, "tpm2_print refused: {}", out.stderr);
        assert_eq!(
            out.stdout, clean.stdout,
            "tpm2_print printed something else"
        );
    }
}

#[test]
fn tpm2_print_ignores_trailing_bytes_after_public_we_refuse() {
    if !available("tpm2_print_ignores_trailing_bytes_after_public_we_refuse") {
        return;
    }
    for (file, ty) in [
        ("swtpm/ecc.ak.pub", "TPM2B_PUBLIC"),
        ("swtpm/rsa.ak.tpmt", "TPMT_PUBLIC"),
    ] {
        let b = read(vectors().join(file));
        let clean = run(ty, &[], Input::Bytes(&b));
        assert!(clean.ok);
        let long = [&b[..], &[0]].concat();
        let e = parse_public(ty, &long).expect_err("baretpm accepted a trailing byte");
        assert_eq!(e.kind, ErrorKind::TrailingBytes { count: 1 }, "{file}");
        let out = run(ty, &[], Input::Bytes(&long));
        assert!(out.ok, "{file}: tpm2_print refused: {}", out.stderr);
        assert_eq!(out.stdout, clean.stdout, "{file}");
    }
}

#[test]
fn tpm2_print_ignores_tpm2b_public_size_we_refuse() {
    if !available("tpm2_print_ignores_tpm2b_public_size_we_refuse") {
        return;
    }
    let b = read(vectors().join("swtpm/ecc.ak.pub"));
    let clean = run("TPM2B_PUBLIC", &[], Input::Bytes(&b));
    let size = u16::from_be_bytes([b[0], b[1]]);
    // Size one short (the TPMT_PUBLIC runs one byte past it) and one long (a byte of padding
    // inside the TPM2B that the TPMT_PUBLIC does not use).
    let short = [&(size - 1).to_be_bytes()[..], &b[2..]].concat();
    let long = [&(size + 1).to_be_bytes()[..], &b[2..], &[0]].concat();
    for (what, bytes) in [("size - 1", short), ("size + 1", long)] {
        let e = Tpm2bPublic::from_bytes(&bytes).expect_err(what);
        assert!(
            matches!(
                e.kind,
                ErrorKind::Truncated { .. } | ErrorKind::SizedNotConsumed { .. }
            ),
            "{what}: {e:?}"
        );
        let out = run("TPM2B_PUBLIC", &[], Input::Bytes(&bytes));
        assert!(out.ok, "{what}: tpm2_print refused: {}", out.stderr);
        assert_eq!(out.stdout, clean.stdout, "{what}");
    }
}

#[test]
fn tpm2_print_reads_tpmt_as_tpm2b_we_refuse() {
    if !available("tpm2_print_reads_tpmt_as_tpm2b_we_refuse") {
        return;
    }
    // A bare TPMT_PUBLIC handed over as TPM2B_PUBLIC: its type (0x0023, ECC) is read as the
    // size, and 35 bytes from the nameAlg on are printed as a public area.
    let b = read(vectors().join("swtpm/ecc.ak.tpmt"));
    let e = Tpm2bPublic::from_bytes(&b).expect_err("baretpm read a TPMT as a TPM2B");
    // The real nameAlg (sha256) read as the type.
    assert_eq!(e.kind, ErrorKind::UnknownValue { value: 0x000b });
    assert_eq!(e.what, "TPMT_PUBLIC.type");
    let out = run("TPM2B_PUBLIC", &[], Input::Bytes(&b));
    assert!(out.ok, "tpm2_print refused: {}", out.stderr);
    let printed = Printed::parse("ecc.ak.tpmt as TPM2B_PUBLIC", &out.stdout);
    assert_eq!(printed.take("type.raw"), Some("0xb"));
    // nameAlg is read from the attribute bytes 0x0005: "hmac"; the real one is sha256.
    assert_eq!(printed.take("name-alg.raw"), Some("0x5"));
    assert_eq!(printed.take("name-alg.value"), Some("hmac"));
    // The reverse (a TPM2B_PUBLIC as TPMT_PUBLIC) is refused by both.
    let p = read(vectors().join("swtpm/ecc.ak.pub"));
    assert!(Tpm2bPublic::from_tpmt_bytes(&p).is_err());
    assert!(!run("TPMT_PUBLIC", &[], Input::Bytes(&p)).ok);
}

#[test]
fn tpm2_print_accepts_safe_2_we_refuse() {
    if !available("tpm2_print_accepts_safe_2_we_refuse") {
        return;
    }
    let mut m = quote_msg();
    let safe_at = quote_body_offset(&m) - 8 - 1;
    assert_eq!(m[safe_at], 1);
    m[safe_at] = 2;
    assert_eq!(err_kind(&m), ErrorKind::InvalidValue { value: 2 });
    let out = run("TPMS_ATTEST", &[], Input::Bytes(&m));
    assert!(out.ok, "{}", out.stderr);
    let printed = Printed::parse("safe = 2", &out.stdout);
    assert_eq!(printed.take("clockInfo.safe"), Some("2"));
}

/// The swtpm quote's selection (one bank, sha256, sizeofSelect 3) with a new bitmap.
fn with_bitmap(bitmap: &[u8]) -> Vec<u8> {
    let m = quote_msg();
    let sel = quote_body_offset(&m) + 4; // TPMS_PCR_SELECTION: hash, sizeofSelect, bitmap
    assert_eq!(&m[sel..sel + 3], &[0x00, 0x0b, 3]);
    [&m[..sel + 2], &[bitmap.len() as u8], bitmap, &m[sel + 6..]].concat()
}

#[test]
fn tpm2_print_accepts_sizeofselect_2_we_refuse() {
    if !available("tpm2_print_accepts_sizeofselect_2_we_refuse") {
        return;
    }
    let m = with_bitmap(&[0x00, 0xc0]);
    assert_eq!(err_kind(&m), ErrorKind::BadSizeofSelect { size: 2 });
    let out = run("TPMS_ATTEST", &[], Input::Bytes(&m));
    assert!(out.ok, "{}", out.stderr);
    let printed = Printed::parse("sizeofSelect 2", &out.stdout);
    let p = "attested.quote.pcrSelect.pcrSelections.0";
    assert_eq!(printed.take(&format!("{p}.sizeofSelect")), Some("2"));
    assert_eq!(printed.take(&format!("{p}.pcrSelect")), Some("00c0"));
}

#[test]
fn tpm2_print_accepts_pcr_24_we_refuse() {
    if !available("tpm2_print_accepts_pcr_24_we_refuse") {
        return;
    }
    // sizeofSelect 4 with PCR 24 set: a PC Client TPM has 24 PCRs (FACTS.md: refuse index >= 24).
    let m = with_bitmap(&[0x00, 0xc0, 0x01, 0x01]);
    assert_eq!(err_kind(&m), ErrorKind::PcrIndexOutOfRange { index: 24 });
    let out = run("TPMS_ATTEST", &[], Input::Bytes(&m));
    assert!(out.ok, "{}", out.stderr);
    let printed = Printed::parse("PCR 24", &out.stdout);
    let p = "attested.quote.pcrSelect.pcrSelections.0.pcrSelect";
    assert_eq!(printed.take(p), Some("00c00101"));
}

#[test]
fn tpm2_print_accepts_reserved_object_attribute_we_refuse() {
    if !available("tpm2_print_accepts_reserved_object_attribute_we_refuse") {
        return;
    }
    let mut b = read(vectors().join("swtpm/ecc.ak.pub"));
    b[2 + 2 + 2 + 3] |= 0x01; // TPMA_OBJECT bit 0 (reserved)
    let e = Tpm2bPublic::from_bytes(&b).expect_err("baretpm accepted a reserved bit");
    assert_eq!(e.kind, ErrorKind::InvalidValue { value: 1 });
    let out = run("TPM2B_PUBLIC", &[], Input::Bytes(&b));
    assert!(out.ok, "{}", out.stderr);
    let printed = Printed::parse("reserved bit 0", &out.stdout);
    assert_eq!(printed.take("attributes.raw"), Some("0x50073"));
    assert_eq!(
        printed.take("attributes.value"),
        Some("<reserved(0)>|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign")
    );
}

#[test]
fn tpm2_print_shows_firmware_version_byte_reversed() {
    if !available("tpm2_print_shows_firmware_version_byte_reversed") {
        return;
    }
    // go-attestation's Infineon CertifyCreation: firmwareVersion 0x30c20ed7850b90b8 on the wire.
    let path = vectors().join("external/go-attestation/infineon_rsa_ak.certifycreation.attest.bin");
    let b = read(&path);
    let a = TpmsAttest::from_bytes(&b).unwrap();
    assert_eq!(a.firmware_version, 0x30c2_0ed7_850b_90b8);
    let out = run("TPMS_ATTEST", &[], Input::File(&path));
    let printed = Printed::parse("infineon", &out.stdout);
    let shown = printed.take("firmwareVersion").unwrap();
    // tpm2_print hexdumps the host-order u64; on a little-endian host that is the reverse of
    // the value (and of the wire bytes).
    if cfg!(target_endian = "little") {
        assert_eq!(shown, "b8900b85d70ec230");
    } else {
        assert_eq!(shown, "30c20ed7850b90b8");
    }
}

#[test]
fn tpm2_print_shows_exponent_0_as_65537() {
    if !available("tpm2_print_shows_exponent_0_as_65537") {
        return;
    }
    let path = vectors().join("swtpm/rsa.ak.tpmt");
    let b = read(&path);
    // type, nameAlg, attributes, authPolicy (empty), sym NULL, RSASSA + hash, keyBits, exponent
    assert_eq!(&b[18..22], &[0, 0, 0, 0], "the file's exponent field is 0");
    let p = Tpm2bPublic::from_tpmt_bytes(&b).unwrap();
    let PublicDetails::Rsa { parms, .. } = p.public_area().details else {
        panic!("not RSA")
    };
    assert_eq!(parms.exponent, 0);
    assert_eq!(parms.effective_exponent(), 65537);
    let out = run("TPMT_PUBLIC", &[], Input::File(&path));
    let printed = Printed::parse("rsa.ak.tpmt", &out.stdout);
    assert_eq!(printed.take("exponent"), Some("65537"));
}

#[test]
fn tpm2_print_prints_no_body_but_a_quotes() {
    if !available("tpm2_print_prints_no_body_but_a_quotes") {
        return;
    }
    for (file, tag) in [
        ("swtpm/swtpm-bad-nvcertify.msg", 0x8014),
        ("swtpm/swtpm-bad-certify.msg", 0x8017),
        (
            "external/go-attestation/infineon_rsa_ak.certifycreation.attest.bin",
            0x801a,
        ),
    ] {
        let path = vectors().join(file);
        let b = read(&path);
        assert_eq!(TpmsAttest::from_bytes(&b).unwrap().attested.tag().0, tag);
        let out = run("TPMS_ATTEST", &[], Input::File(&path));
        assert!(!out.ok, "{file}");
        assert!(
            out.stderr
                .contains(&format!("Cannot print unsupported type {tag:#x}")),
            "{file}: {}",
            out.stderr
        );
        assert!(!out.stdout.contains("attested"), "{file}");
    }
}

/// An ECC key with a KDF2 key-derivation scheme (spec Part 2: TPMI_ALG_KDF is MGF1,
/// KDF1_SP800_56A, KDF2 or KDF1_SP800_108).
fn ecc_with_kdf2() -> Vec<u8> {
    Tpmt::head(0x0023, 0x0002_0072, &[])
        .u16(0x0010)
        .u16(0x0019)
        .u16(0x000b)
        .u16(0x0003)
        .u16(0x0021)
        .u16(0x000b)
        .tpm2b(&filler(32, 21))
        .tpm2b(&filler(32, 22))
        .0
}

#[test]
fn tpm2_print_refuses_kdf2_we_accept() {
    if !available("tpm2_print_refuses_kdf2_we_accept") {
        return;
    }
    // libtss2-mu 3.2.1 has no KDF2 member in TPMU_KDF_SCHEME (tpm2-tss PR #2621, "mu: Fill in
    // missing TPMU variants", adds it), so it refuses a spec-valid public area.
    let b = ecc_with_kdf2();
    let p = Tpm2bPublic::from_tpmt_bytes(&b).expect("baretpm refuses KDF2");
    let PublicDetails::Ecc { parms, .. } = p.public_area().details else {
        panic!("not ECC")
    };
    assert_eq!(
        parms.kdf,
        TpmtKdfScheme::Kdf {
            scheme: TpmAlgId::KDF2,
            hash: HashAlg::Sha256
        }
    );
    let out = run("TPMT_PUBLIC", &[], Input::Bytes(&b));
    assert!(!out.ok, "tpm2_print accepted KDF2: {}", out.stdout);
    // TSS2_MU_RC_BAD_VALUE
    assert!(
        out.stderr
            .contains("Error deserializing template structure: 0x9000b"),
        "{}",
        out.stderr
    );
}

#[test]
fn tpm2_print_refuses_attest_nv_digest_we_accept() {
    if !available("tpm2_print_refuses_attest_nv_digest_we_accept") {
        return;
    }
    // TPM_ST_ATTEST_NV_DIGEST (TPM2_NV_Certify with size 0): the swtpm NV-certify header with
    // the type changed and a TPMS_NV_DIGEST_CERTIFY_INFO body (its indexName, a digest).
    // libtss2-mu 3.2.1 knows no such type (vectors/README.md: tpm2_nvcertify 5.4 without
    // --size gets one it cannot unmarshal; tpm2-tss PR #2621 adds it).
    let nv = read(vectors().join("swtpm/swtpm-bad-nvcertify.msg"));
    let t2b = |at: usize| at + 2 + usize::from(u16::from_be_bytes([nv[at], nv[at + 1]]));
    let body = t2b(t2b(6)) + 17 + 8;
    let name_end = t2b(body);
    let digest: Vec<u8> = (0u8..32).collect();
    let mut m = [&nv[..name_end], &[0, 32], &digest].concat();
    m[4..6].copy_from_slice(&0x801cu16.to_be_bytes());
    let a = TpmsAttest::from_bytes(&m).expect("baretpm refuses ATTEST_NV_DIGEST");
    let TpmuAttest::NvDigest(d) = &a.attested else {
        panic!("not NV_DIGEST: {:?}", a.attested)
    };
    assert_eq!(d.index_name.as_bytes(), &nv[body + 2..name_end]);
    assert_eq!(d.nv_digest.as_bytes(), &digest[..]);
    let out = run("TPMS_ATTEST", &[], Input::Bytes(&m));
    assert!(!out.ok, "tpm2_print accepted it: {}", out.stdout);
    assert!(
        out.stderr
            .contains("Error deserializing attest structure: 0x9000b"),
        "{}",
        out.stderr
    );
}

#[test]
fn both_refuse() {
    if !available("both_refuse") {
        return;
    }
    let m = quote_msg();
    let sel = quote_body_offset(&m) + 4;
    let mut unknown_type = m.clone();
    unknown_type[4..6].copy_from_slice(&0x8099u16.to_be_bytes());
    let mut unknown_bank = m.clone();
    unknown_bank[sel..sel + 2].copy_from_slice(&0x0099u16.to_be_bytes());
    let cases = [
        ("sizeofSelect 5", with_bitmap(&[0, 0xc0, 1, 0, 0])),
        ("attestation type 0x8099", unknown_type),
        ("PCR bank 0x0099", unknown_bank),
        ("last byte missing", m[..m.len() - 1].to_vec()),
    ];
    for (what, bytes) in cases {
        assert!(
            TpmsAttest::from_bytes(&bytes).is_err(),
            "{what}: baretpm accepted it"
        );
        let out = run("TPMS_ATTEST", &[], Input::Bytes(&bytes));
        assert!(!out.ok, "{what}: tpm2_print accepted it: {}", out.stdout);
    }
}
