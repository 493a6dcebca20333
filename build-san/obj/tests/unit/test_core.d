build-san/obj/tests/unit/test_core.o: tests/unit/test_core.c \
 libs/core/mdm_buf.h libs/core/mdm_config.h libs/core/mdm_err.h \
 libs/core/mdm_err.h
libs/core/mdm_buf.h:
libs/core/mdm_config.h:
libs/core/mdm_err.h:
libs/core/mdm_err.h:
