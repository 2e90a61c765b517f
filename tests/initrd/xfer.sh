# Sourced by the test initrd's scripts (init.sh, premount-test.sh): frames files for the host's
# decode.sh. Each file: "FILE name bytes sha256", its base64, "END name"; the whole transfer
# between "BARETPM-XFER-BEGIN 1" and "BARETPM-XFER-DONE count".
send_all() {
    echo "BARETPM-XFER-BEGIN 1"
    n=0
    for f in "$@"; do
        echo "FILE ${f##*/} $(wc -c <"$f") $(sha256sum "$f" | cut -d' ' -f1)"
        base64 "$f"
        echo "END ${f##*/}"
        n=$((n + 1))
    done
    echo "BARETPM-XFER-DONE $n"
}
