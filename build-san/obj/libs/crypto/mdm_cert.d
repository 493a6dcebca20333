build-san/obj/libs/crypto/mdm_cert.o: libs/crypto/mdm_cert.c \
 libs/crypto/mdm_cert.h libs/crypto/mdm_ca.h libs/core/mdm_err.h \
 libs/crypto/mdm_b64.h libs/core/mdm_log.h
libs/crypto/mdm_cert.h:
libs/crypto/mdm_ca.h:
libs/core/mdm_err.h:
libs/crypto/mdm_b64.h:
libs/core/mdm_log.h:
