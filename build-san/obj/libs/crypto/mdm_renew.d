build-san/obj/libs/crypto/mdm_renew.o: libs/crypto/mdm_renew.c \
 libs/crypto/mdm_renew.h libs/core/mdm_err.h libs/crypto/mdm_csr.h \
 libs/core/mdm_log.h
libs/crypto/mdm_renew.h:
libs/core/mdm_err.h:
libs/crypto/mdm_csr.h:
libs/core/mdm_log.h:
