build-san/obj/libs/bus/mdm_msg.o: libs/bus/mdm_msg.c libs/bus/mdm_msg.h \
 libs/core/mdm_log.h
libs/bus/mdm_msg.h:
libs/core/mdm_log.h:
