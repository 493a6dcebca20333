build-san/obj/services/pki/pki_auth.o: services/pki/pki_auth.c \
 libs/crypto/mdm_b64.h libs/crypto/mdm_cert.h libs/crypto/mdm_ca.h \
 libs/core/mdm_err.h libs/core/mdm_log.h libs/crypto/mdm_password.h \
 libs/crypto/mdm_token.h services/pki/pki.h libs/crypto/mdm_ca.h \
 libs/soap/mdm_soap.h /usr/include/libxml2/libxml/tree.h \
 /usr/include/libxml2/libxml/xmlversion.h \
 /usr/include/libxml2/libxml/xmlexports.h \
 /usr/include/libxml2/libxml/xmlstring.h \
 /usr/include/libxml2/libxml/xmlregexp.h \
 /usr/include/libxml2/libxml/dict.h \
 /usr/include/libxml2/libxml/xmlmemory.h \
 /usr/include/libxml2/libxml/threads.h \
 /usr/include/libxml2/libxml/globals.h \
 /usr/include/libxml2/libxml/parser.h /usr/include/libxml2/libxml/hash.h \
 /usr/include/libxml2/libxml/valid.h \
 /usr/include/libxml2/libxml/xmlerror.h \
 /usr/include/libxml2/libxml/list.h \
 /usr/include/libxml2/libxml/xmlautomata.h \
 /usr/include/libxml2/libxml/entities.h \
 /usr/include/libxml2/libxml/encoding.h \
 /usr/include/libxml2/libxml/xmlIO.h /usr/include/libxml2/libxml/SAX2.h \
 /usr/include/libxml2/libxml/xlink.h libs/core/mdm_buf.h \
 libs/store/mdm_store.h libs/bus/mdm_worker.h libs/bus/mdm_msg.h
libs/crypto/mdm_b64.h:
libs/crypto/mdm_cert.h:
libs/crypto/mdm_ca.h:
libs/core/mdm_err.h:
libs/core/mdm_log.h:
libs/crypto/mdm_password.h:
libs/crypto/mdm_token.h:
services/pki/pki.h:
libs/crypto/mdm_ca.h:
libs/soap/mdm_soap.h:
/usr/include/libxml2/libxml/tree.h:
/usr/include/libxml2/libxml/xmlversion.h:
/usr/include/libxml2/libxml/xmlexports.h:
/usr/include/libxml2/libxml/xmlstring.h:
/usr/include/libxml2/libxml/xmlregexp.h:
/usr/include/libxml2/libxml/dict.h:
/usr/include/libxml2/libxml/xmlmemory.h:
/usr/include/libxml2/libxml/threads.h:
/usr/include/libxml2/libxml/globals.h:
/usr/include/libxml2/libxml/parser.h:
/usr/include/libxml2/libxml/hash.h:
/usr/include/libxml2/libxml/valid.h:
/usr/include/libxml2/libxml/xmlerror.h:
/usr/include/libxml2/libxml/list.h:
/usr/include/libxml2/libxml/xmlautomata.h:
/usr/include/libxml2/libxml/entities.h:
/usr/include/libxml2/libxml/encoding.h:
/usr/include/libxml2/libxml/xmlIO.h:
/usr/include/libxml2/libxml/SAX2.h:
/usr/include/libxml2/libxml/xlink.h:
libs/core/mdm_buf.h:
libs/store/mdm_store.h:
libs/bus/mdm_worker.h:
libs/bus/mdm_msg.h:
