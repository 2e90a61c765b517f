#!/bin/sh
# Regenerates the synthetic certificates of vectors/certs/gen with OpenSSL (not needed by the
# tests, which read the committed files). Each chain exercises one path of src/cert:
#   pss-root (RSA-3072) -RSA-PSS/SHA-384-> p384-ica (P-384) -ecdsa-with-SHA384-> ek-p256 (EK leaf)
#   p384-root (P-384) -ecdsa-with-SHA512-> rsa-leaf (RSA-2048)
#   nokcs-ica: cA TRUE but keyUsage without keyCertSign; notca-ica: cA FALSE
#   pl0-root: pathLen 0, with pl0-ica under it and pl0-leaf under that
#   loop-a / loop-b: two CAs that certify each other; loop-leaf under loop-a
#   twin-root (P-256, "CN=Twin CA") and twin-leaf signed by an RSA key of the same name
#   crit-leaf: an unknown critical extension 1.2.3.4
#   ak-leaf: EKU 2.23.133.8.3, digitalSignature
#   esc-leaf: control characters and a bidi override in the subject
set -eu
cd "$(dirname "$0")"
D="-days 36500"
key_rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:$2 -out $1.key 2>/dev/null; }
key_ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$2 -out $1.key; }
ext() { printf '%s\n' "$@" > ext.cnf; }
selfsign() { # name subject digest ext...
  n=$1; s=$2; d=$3; shift 3; ext "$@"
  openssl req -new -key $n.key -subj "$s" -out $n.csr
  openssl x509 -req -in $n.csr -signkey $n.key $D -$d -extfile ext.cnf -out $n.pem $SIGOPT
}
issue() { # name subject issuer digest ext...
  n=$1; s=$2; i=$3; d=$4; shift 4; ext "$@"
  openssl req -new -key $n.key -subj "$s" -out $n.csr
  openssl x509 -req -in $n.csr -CA $i.pem -CAkey $i.key -set_serial 0x$(openssl rand -hex 8) $D -$d -extfile ext.cnf -out $n.pem $SIGOPT
}
CA="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash"
EK="basicConstraints=critical,CA:FALSE
keyUsage=critical,keyAgreement
extendedKeyUsage=2.23.133.8.1
subjectAltName=critical,dirName:tpm
[tpm]
0.2.23.133.2.1=id:53544D20
1.2.23.133.2.2=ST33 test
2.2.23.133.2.3=id:00010102"
SIGOPT=""
key_rsa pss-root 3072; key_ec p384-ica secp384r1; key_ec ek-p256 prime256v1
selfsign pss-root "/CN=PSS Root" sha384 "$CA"
SIGOPT="-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48"
issue p384-ica "/CN=P384 Intermediate" pss-root sha384 "$CA"
SIGOPT=""
openssl req -new -key ek-p256.key -subj "/CN=placeholder" -out ek-p256.csr
printf '[v3]\n%s\n' "$EK" > ext.cnf
# -subj "" on x509 is not possible in 3.0: the EK subject stays CN=placeholder.
openssl x509 -req -in ek-p256.csr -CA p384-ica.pem -CAkey p384-ica.key -set_serial 0x42 $D -sha384 -extfile ext.cnf -extensions v3 -out ek-p256.pem
openssl pkey -in ek-p256.key -pubout -out ek-p256.pub.pem
key_ec p384-root secp384r1; key_rsa rsa-leaf 2048
selfsign p384-root "/CN=P384 Root" sha512 "$CA"
issue rsa-leaf "/CN=RSA leaf" p384-root sha512 "basicConstraints=critical,CA:FALSE"
key_rsa nokcs-ica 2048; key_rsa notca-ica 2048; key_rsa leaf2 2048
issue nokcs-ica "/CN=No keyCertSign CA" pss-root sha256 "basicConstraints=critical,CA:TRUE
keyUsage=critical,digitalSignature"
issue notca-ica "/CN=Not a CA" pss-root sha256 "basicConstraints=critical,CA:FALSE"
cp leaf2.key nokcs-leaf.key; issue nokcs-leaf "/CN=Leaf under no keyCertSign" nokcs-ica sha256 "basicConstraints=critical,CA:FALSE"
cp leaf2.key notca-leaf.key; issue notca-leaf "/CN=Leaf under not a CA" notca-ica sha256 "basicConstraints=critical,CA:FALSE"
key_rsa pl0-root 2048; key_rsa pl0-ica 2048
selfsign pl0-root "/CN=PathLen0 Root" sha256 "basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign"
issue pl0-ica "/CN=PathLen0 Intermediate" pl0-root sha256 "basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign"
cp leaf2.key pl0-leaf.key; issue pl0-leaf "/CN=Leaf below pathLen 0" pl0-ica sha256 "basicConstraints=critical,CA:FALSE"
key_rsa loop-a 2048; key_rsa loop-b 2048
# loop-a certified by loop-b and loop-b by loop-a: self-signed first, then cross-issued.
selfsign loop-a "/CN=Loop A" sha256 "$CA"; selfsign loop-b "/CN=Loop B" sha256 "$CA"
cp loop-a.pem loop-a-self.pem; cp loop-b.pem loop-b-self.pem
ext "$CA"
openssl req -new -key loop-a.key -subj "/CN=Loop A" -out loop-a.csr
openssl x509 -req -in loop-a.csr -CA loop-b-self.pem -CAkey loop-b.key -set_serial 0xa1 $D -sha256 -extfile ext.cnf -out loop-a.pem
openssl req -new -key loop-b.key -subj "/CN=Loop B" -out loop-b.csr
openssl x509 -req -in loop-b.csr -CA loop-a-self.pem -CAkey loop-a.key -set_serial 0xb1 $D -sha256 -extfile ext.cnf -out loop-b.pem
cp leaf2.key loop-leaf.key; issue loop-leaf "/CN=Leaf in a loop" loop-a sha256 "basicConstraints=critical,CA:FALSE"
cat loop-a.pem loop-b.pem > loop-chain.pem
key_ec twin-root prime256v1; key_rsa twin-rsa 2048
NOKID="subjectKeyIdentifier=none
authorityKeyIdentifier=none"
selfsign twin-root "/CN=Twin CA" sha256 "basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign
$NOKID"
selfsign twin-rsa "/CN=Twin CA" sha256 "basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign
$NOKID"
cp leaf2.key twin-leaf.key; issue twin-leaf "/CN=Twin leaf" twin-rsa sha256 "basicConstraints=critical,CA:FALSE
$NOKID"
cp leaf2.key crit-leaf.key; issue crit-leaf "/CN=Critical unknown" pss-root sha256 "basicConstraints=critical,CA:FALSE
1.2.3.4=critical,ASN1:NULL"
cp leaf2.key ak-leaf.key; issue ak-leaf "/CN=AK leaf" pss-root sha256 "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=2.23.133.8.3"
# esc-leaf: ESC and a right-to-left override in the subject CN (output must escape them).
cp leaf2.key esc-leaf.key; ext "basicConstraints=critical,CA:FALSE"
openssl req -new -utf8 -key esc-leaf.key -subj "/CN=$(printf 'evil\033[31m\342\200\256gnp.exe')" -out esc-leaf.csr
openssl x509 -req -in esc-leaf.csr -CA pss-root.pem -CAkey pss-root.key -set_serial 0xe5c $D -sha256 -extfile ext.cnf -out esc-leaf.pem
rm -f *.csr *.key ext.cnf *.srl loop-a-self.pem loop-b-self.pem twin-rsa.pem
