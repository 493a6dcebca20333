build-san/obj/libs/crypto/mdm_csr.o: libs/crypto/mdm_csr.c \
 libs/crypto/mdm_csr.h libs/core/mdm_err.h libs/core/mdm_log.h
libs/crypto/mdm_csr.h:
libs/core/mdm_err.h:
libs/core/mdm_log.h:
