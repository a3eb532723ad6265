#!/bin/sh
# Regenerates the fuzz seed fixtures of package format (run once; the
# files are committed). EC P-256 keeps them small. Password: changeit.
set -eu
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
P=changeit
gen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
gen "$t/root.key"; gen "$t/int.key"; gen "$t/leaf.key"
printf '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n[leaf]\nbasicConstraints=CA:FALSE\nsubjectAltName=DNS:seed.example.test\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n' > "$t/ext.cnf"
openssl req -x509 -new -key "$t/root.key" -subj /CN=Seed\ Root -days 36500 -out "$t/root.crt"
openssl req -new -key "$t/int.key" -subj /CN=Seed\ Intermediate -out "$t/int.csr"
openssl x509 -req -in "$t/int.csr" -CA "$t/root.crt" -CAkey "$t/root.key" -set_serial 2 -days 36500 -extfile "$t/ext.cnf" -extensions ca -out "$t/int.crt"
openssl req -new -key "$t/leaf.key" -subj /CN=seed.example.test -out "$t/leaf.csr"
openssl x509 -req -in "$t/leaf.csr" -CA "$t/int.crt" -CAkey "$t/int.key" -set_serial 3 -days 36500 -extfile "$t/ext.cnf" -extensions leaf -out "$t/leaf.crt"
cat "$t/root.crt" "$t/leaf.crt" "$t/int.crt" > chain.pem
cat "$t/int.crt" "$t/root.crt" > "$t/cas.pem"
cp "$t/leaf.key" key.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$t/leaf.key" -passout pass:$P -out key-pkcs8-aes.pem
openssl ec -in "$t/leaf.key" -aes256 -passout pass:$P -out key-legacy-aes.pem
openssl x509 -in "$t/leaf.crt" -outform DER -out leaf.der
openssl crl2pkcs7 -nocrl -certfile chain.pem -outform DER -out chain.p7b
openssl pkcs12 -export -inkey "$t/leaf.key" -in "$t/leaf.crt" -certfile "$t/cas.pem" -name seed -passout pass:$P -out modern.pfx
openssl pkcs12 -export -legacy -inkey "$t/leaf.key" -in "$t/leaf.crt" -certfile "$t/cas.pem" -name seed -passout pass:$P -out legacy.pfx
rm -f keystore.jks trust.jks trust.p12
keytool -importkeystore -noprompt -srckeystore modern.pfx -srcstoretype PKCS12 -srcstorepass $P -destkeystore keystore.jks -deststoretype JKS -deststorepass $P
keytool -importcert -noprompt -trustcacerts -storetype JKS -keystore trust.jks -storepass $P -alias root -file "$t/root.crt"
keytool -importcert -noprompt -trustcacerts -storetype PKCS12 -keystore trust.p12 -storepass $P -alias root -file "$t/root.crt"
# Certificates only (openssl's shape, not a Java trust store) and PBES1 /
# PKCS#12 PBE keys, read by certkeeper's own decryption.
openssl pkcs12 -export -nokeys -in chain.pem -passout pass:$P -out certs.pfx
openssl pkcs12 -export -nokeys -in chain.pem -certpbe PBE-SHA1-3DES -macalg sha1 -passout pass:$P -out certs-3des.pfx
openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in key.pem -passout pass:$P -out key-pkcs8-v1.pem
